import { pino } from 'pino';
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
 * Secrets that ride in a URL: the invite token in its path, a raw key pasted
 * anywhere, and query parameters named like credentials.
 */
export function redactUrl(url) {
    return url
        .replace(/^(\/api\/v1\/invites\/)[^/?#]+/, '$1[redacted]')
        .replace(/kupe_([0-9a-f]{8})_[0-9A-Za-z]+/g, 'kupe_$1_[redacted]')
        .replace(/([?&](?:key|token|password|secret|api_key|apikey|access_token)=)[^&#]*/gi, '$1[redacted]');
}
export function createLogger(level, destination) {
    const options = {
        level, base: { service: 'kupe' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        // Fastify's request serializer, with the URL's secrets taken out.
        serializers: {
            req: (req) => ({
                method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : undefined, host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
            }),
        },
    };
    return destination ? pino(options, destination) : pino(options);
}
