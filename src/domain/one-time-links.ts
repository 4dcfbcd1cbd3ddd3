import { randomBytes } from 'node:crypto';
import { sha256Hex } from './digest.ts';
import { parseRfc3339 } from './validation.ts';

/**
 * The links Kupe hands one person to use once (invites, password resets): a token of 32 random bytes in the
 * link (base64url, 43 characters), of which only the SHA-256 is stored, as the row's id.
 */
export function newLinkToken(): { token: string; id: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, id: sha256Hex(token) };
}

/** The row a link's token names while it is neither used nor expired; undefined for anything else. */
export async function unspentLink<T extends { usedAt?: string | undefined; expiresAt: string }>(
  token: string, find: (id: string) => Promise<T | undefined>, now: Date,
): Promise<T | undefined> {
  const row = /^[A-Za-z0-9_-]{43}$/.test(token) ? await find(sha256Hex(token)) : undefined;
  return row && row.usedAt === undefined && (parseRfc3339(row.expiresAt) ?? 0) > now.getTime() ? row : undefined;
}
