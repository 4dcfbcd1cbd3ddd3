import { validationError } from "./errors.js";
export const TENANT_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
// Character classes spelled with \uXXXX ranges only, so that a pattern made of them means the same to
// JavaScript (with the u flag: the domain, Ajv) and to Python's re (schemathesis, other generators).
const CONTROL = '\\u0000-\\u001F\\u007F-\\u009F';
/** Bidirectional controls: they make a name display as something else (`lanif.exe` shown as `exe.final`). */
const BIDI = '\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069';
/**
 * Half of a UTF-16 pair on its own: no character at all (stored, it would come back as U+FFFD). Refused
 * apart from the pattern: a surrogate range is no valid pattern for most regex engines outside JavaScript.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** What String.prototype.trim removes. */
const TRIMMED = '\\u0009-\\u000D\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
/** What shows nothing: the trimmed spaces, format characters, fillers, variation selectors, combining marks. */
const INVISIBLE = `${TRIMMED}\\u00AD\\u034F\\u0300-\\u036F\\u0600-\\u0605\\u06DD\\u070F\\u115F\\u1160\\u17B4\\u17B5` +
    '\\u180B-\\u180F\\u1AB0-\\u1AFF\\u1DC0-\\u1DFF\\u200B-\\u200F\\u2060-\\u206F\\u20D0-\\u20FF\\u3164\\uFE00-\\uFE0F' +
    '\\uFE20-\\uFE2F\\uFFA0\\uFFF9-\\uFFFB';
const FORBIDDEN = `${CONTROL}${BIDI}`;
/**
 * A display name, as the API schema states it and the domain checks it (one
 * text): after trimming, 1-128 characters with no control character or
 * bidirectional control, starting with a visible one.
 */
export const DISPLAY_NAME_PATTERN = `^[${TRIMMED}]*[^${INVISIBLE}${FORBIDDEN}](?:[^${FORBIDDEN}]{0,126}[^${TRIMMED}${FORBIDDEN}])?[${TRIMMED}]*$`;
// The class holds ranges of combining marks on purpose (to refuse a name that starts with one).
// eslint-disable-next-line no-misleading-character-class
const DISPLAY_NAME = new RegExp(DISPLAY_NAME_PATTERN, 'u');
/** An email address as Kupe takes one (with at most 254 characters): the API schema states the same pattern. */
export const EMAIL_PATTERN = `^[^@${TRIMMED}${CONTROL}]+@[^@${TRIMMED}${CONTROL}]+\\.[^@${TRIMMED}${CONTROL}]+$`;
const EMAIL = new RegExp(EMAIL_PATTERN, 'u');
export const EMAIL_MAX_LENGTH = 254;
const has = (chars, text) => new RegExp(`[${chars}]`, 'u').test(text);
/** Why a value breaks DISPLAY_NAME_PATTERN, in words. */
export function explainDisplayName(field, value) {
    const trimmed = value.trim();
    const length = [...trimmed].length;
    if (length === 0)
        return `${field} must not be empty`;
    if (length > 128)
        return `${field} must be at most 128 characters (got ${length})`;
    if (has(CONTROL, trimmed))
        return `${field} must not contain control characters`;
    if (has(BIDI, trimmed))
        return `${field} must not contain bidirectional control characters`;
    return `${field} must start with a visible character`;
}
/** Trims and checks a human-facing name (DISPLAY_NAME_PATTERN). What is accepted is listed back exactly. */
export function normalizeDisplayName(field, value) {
    if (LONE_SURROGATE.test(value))
        throw validationError(`${field} must be valid Unicode text (it has a lone surrogate)`);
    if (!DISPLAY_NAME.test(value))
        throw validationError(explainDisplayName(field, value));
    return value.trim();
}
export function explainEmail(field) {
    return `${field} must be an email address like alice@example.com`;
}
/** Emails are stored lowercase and matched case-insensitively. */
export function normalizeEmail(field, value) {
    if ([...value].length > EMAIL_MAX_LENGTH || !EMAIL.test(value))
        throw validationError(explainEmail(field));
    return value.toLowerCase();
}
export function isTenantName(value) {
    return TENANT_NAME.test(value);
}
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;
/**
 * The shape of an RFC 3339 timestamp with a zone, as the API schema states it
 * (no leap second; the day of the month and "in the future" are checked on top).
 */
export const TIMESTAMP_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]' +
    '(\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';
export const TIMESTAMP_RULE = 'an RFC 3339 timestamp with a time zone, e.g. 2027-01-01T00:00:00Z';
/**
 * Parses an RFC 3339 timestamp that carries a time zone and returns its
 * instant in milliseconds, or undefined when the text is not one.
 */
export function parseRfc3339(text) {
    const m = RFC3339.exec(text);
    if (!m)
        return undefined;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
    // No leap second (:60): Go's time package and browsers refuse it, so the clients could not read it back.
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59)
        return undefined;
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (day < 1 || day > daysInMonth)
        return undefined;
    let offsetMinutes = 0;
    if (m[9]) {
        const offHours = Number(m[10]);
        const offMinutes = Number(m[11]);
        if (offHours > 23 || offMinutes > 59)
            return undefined;
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
export function formatTimestamp(date) {
    const second = Math.floor(date.getTime() / 1000);
    if (second !== lastSecond) {
        lastFormatted = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
        lastSecond = second;
    }
    return lastFormatted;
}
