import { validationError } from './errors.ts';

export const TENANT_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const CONTROL_CHARS = /\p{Cc}/u;
/** Half of a UTF-16 pair on its own: no character at all (stored, it would come back as U+FFFD). */
const LONE_SURROGATE = /\p{Cs}/u;
/** Bidirectional controls: they make a name display as something else (`lanif.exe` shown as `exe.final`). */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/** What does not show: format characters (zero-width spaces, joiners), separators, combining marks alone. */
const INVISIBLE = /[\p{Cf}\p{Z}\p{M}\s\u115F\u1160\u3164\uFFA0]/gu;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Trims and checks a human-facing name: 1-128 characters, well-formed
 * Unicode, no control or bidirectional-control characters, and something
 * visible. What is accepted is stored and listed back exactly as returned.
 */
export function normalizeDisplayName(field: string, value: string): string {
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length === 0) throw validationError(`${field} must not be empty`);
  if (length > 128) throw validationError(`${field} must be at most 128 characters (got ${length})`);
  if (CONTROL_CHARS.test(trimmed)) throw validationError(`${field} must not contain control characters`);
  if (LONE_SURROGATE.test(trimmed)) throw validationError(`${field} must be valid Unicode text (it has a lone surrogate)`);
  if (BIDI_CONTROLS.test(trimmed)) throw validationError(`${field} must not contain bidirectional control characters`);
  if (trimmed.replace(INVISIBLE, '') === '') throw validationError(`${field} must contain a visible character`);
  return trimmed;
}

/** Emails are stored lowercase and matched case-insensitively. */
export function normalizeEmail(field: string, value: string): string {
  if (value.length > 254 || CONTROL_CHARS.test(value) || !EMAIL.test(value)) {
    throw validationError(`${field} must be an email address like alice@example.com`);
  }
  return value.toLowerCase();
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
