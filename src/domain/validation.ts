import { validationError } from './errors.ts';
import {
  BIDI, CONTROL, DISPLAY_NAME_PATTERN, TENANT_NAME_PATTERN,
} from './vocabulary.ts';

export const TENANT_NAME = new RegExp(TENANT_NAME_PATTERN);

/**
 * Half of a UTF-16 pair on its own: no character at all (stored, it would come back as U+FFFD). Refused
 * apart from the pattern: a surrogate range is no valid pattern for most regex engines outside JavaScript.
 */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const DISPLAY_NAME = new RegExp(DISPLAY_NAME_PATTERN, 'u');

const has = (chars: string, text: string) => new RegExp(`[${chars}]`, 'u').test(text);

/** Why a value breaks DISPLAY_NAME_PATTERN, in words. */
export function explainDisplayName(field: string, value: string): string {
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length === 0) return `${field} must not be empty`;
  if (length > 128) return `${field} must be at most 128 characters (got ${length})`;
  if (has(CONTROL, trimmed)) return `${field} must not contain control characters`;
  if (has(BIDI, trimmed)) return `${field} must not contain bidirectional control characters`;
  return `${field} must start with a visible character`;
}

/** Trims and checks a human-facing name (DISPLAY_NAME_PATTERN). What is accepted is listed back exactly. */
export function normalizeDisplayName(field: string, value: string): string {
  if (LONE_SURROGATE.test(value)) throw validationError(`${field} must be valid Unicode text (it has a lone surrogate)`);
  if (!DISPLAY_NAME.test(value)) throw validationError(explainDisplayName(field, value));
  return value.trim();
}

export function isTenantName(value: string): boolean {
  return TENANT_NAME.test(value);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;


/**
 * Parses an RFC 3339 timestamp that carries a time zone and returns its
 * instant in milliseconds, or undefined when the text is not one.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  // No leap second (:60): Go's time package and browsers refuse it, so the clients could not read it back.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (m[9]) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  return utc - offsetMinutes * 60_000;
}

let lastSecond = NaN;
let lastFormatted = '';

/**
 * RFC 3339 in UTC with whole seconds, the form every timestamp we generate
 * takes. Every authenticated request formats "now" (lastUsedAt), so the text
 * of the current second is kept.
 */
export function formatTimestamp(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastFormatted = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastFormatted;
}
