import { type DestinationStream, type Logger, pino } from 'pino';
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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'kupe' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
