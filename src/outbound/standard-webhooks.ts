import { createHmac } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from '../domain/webhooks.ts';

/**
 * Signatures as the Standard Webhooks specification defines them (https://www.standardwebhooks.com), so that
 * receivers verify Kupe's webhooks with the reference libraries (docs/notifications.md):
 * - the secret is `whsec_` and base64 of 24 random bytes; its bytes are the HMAC key;
 * - the signed content is `<webhook-id>.<webhook-timestamp>.<body>`, the timestamp in whole seconds;
 * - `webhook-signature` is `v1,` and base64 of HMAC-SHA256 of that content.
 */
/** The three headers of one delivery attempt. */
export function webhookHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
