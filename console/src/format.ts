const DAY = 86_400_000;

/**
 * The instant of an RFC 3339 timestamp as the API accepts it (a lowercase
 * `t` or `z`, up to nine fraction digits), which Date.parse alone does not
 * always read. NaN for anything else.
 */
export function parseTimestamp(text: string): number {
  return Date.parse(text.toUpperCase().replace(/(\.\d{1,3})\d*/, '$1'));
}

/** The one way the console shows a moment: date, time and the time zone it is in (the browser's). */
const TIME_FORMAT: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };

export function formatTime(iso: string | undefined): string {
  if (!iso) return 'never';
  const d = new Date(parseTimestamp(iso));
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, TIME_FORMAT);
}

export type ExpiryState = 'none' | 'expired' | 'soon' | 'later';

/** Expired, or expiring within 7 days: the two states the table marks. */
export function expiryState(expiresAt: string | undefined, now = Date.now()): ExpiryState {
  if (!expiresAt) return 'none';
  const at = parseTimestamp(expiresAt);
  if (at <= now) return 'expired';
  return at - now <= 7 * DAY ? 'soon' : 'later';
}

/** An expiry `days` from now, as RFC 3339 in UTC with whole seconds. */
export function daysFromNow(days: number, now = Date.now()): string {
  return new Date(now + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The same lifetime as the old key, starting now: rotation keeps the expiry policy. */
export function sameLifetime(key: { createdAt: string; expiresAt?: string | undefined }, now = Date.now()): string | undefined {
  if (!key.expiresAt) return undefined;
  const lifetime = parseTimestamp(key.expiresAt) - parseTimestamp(key.createdAt);
  return new Date(now + Math.max(lifetime, 60_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
