import { type DestinationStream, type Logger, pino, stdTimeFunctions } from 'pino';
import type { LogLevel } from './config.ts';

/**
 * Fixed in code, never taken from input: anything under these names is
 * replaced before a line is written, so a raw key, a password or a session
 * cookie never reaches a log.
 */
export const REDACT_PATHS = [
  'authorization', 'cookie', 'key', 'password', 'token',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  '*.authorization', '*.cookie', '*.key', '*.password', '*.token',
];

/**
 * Query parameters whose value is a credential or opens one: API credentials, and the OAuth and OpenID
 * Connect parameters of the provider sign-in (`code` and `state` of /oidc/callback, tokens, PKCE). The one
 * list: every logged URL goes through redactUrl.
 */
const CREDENTIAL_QUERY_PARAMETERS = [
  'key', 'token', 'password', 'secret', 'api_key', 'apikey', 'access_token', 'id_token', 'refresh_token',
  'code', 'state', 'session_state', 'code_verifier', 'client_secret', 'nonce', 'assertion', 'sig', 'signature',
] as const;

const CREDENTIAL_QUERY = new RegExp(`([?&](?:${CREDENTIAL_QUERY_PARAMETERS.join('|')})=)[^&#]*`, 'gi');

/**
 * Secrets that ride in a URL: the invite token in its path, a raw key pasted
 * anywhere, and query parameters named like credentials (CREDENTIAL_QUERY_PARAMETERS).
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^(\/api\/v1\/invites\/)[^/?#]+/, '$1[redacted]')
    .replace(/kupe_([0-9a-f]{8})_[0-9A-Za-z]+/g, 'kupe_$1_[redacted]')
    .replace(CREDENTIAL_QUERY, '$1[redacted]');
}

interface LoggedRequest { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level, base: { service: 'kupe' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // ISO 8601 in UTC ("2026-12-02T14:30:00.123Z"), as every timestamp Kupe writes (docs/logging.md).
    timestamp: stdTimeFunctions.isoTime,
    // Fastify's request serializer, with the URL's secrets taken out.
    serializers: {
      req: (req: LoggedRequest) => ({
        method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : undefined, host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
