import { randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { API_KEY_ID_PATTERN } from './vocabulary.ts';
import { sha256Hex } from './digest.ts';

/**
 * Raw key: `kupe_<8 hex>_<43 base62 secret><6 base62 checksum>`.
 *
 * - The 8 hex digits are the key id without its `ak-` prefix, so the server
 *   finds the row by primary key and logs can name a key safely.
 * - The secret is 32 random bytes (256 bits) in base62, always 43 characters.
 * - The checksum is the CRC32 of everything before it, base62, 6 characters:
 *   a mistyped or truncated key is refused without any database work, and a
 *   secret scanner can tell a real key from random text offline.
 * Base62 has no `_`, so the key splits unambiguously.
 */
const PREFIX = 'kupe_';
const SECRET_BYTES = 32;
const SECRET_CHARS = 43; // ceil(256 / log2(62))
const CHECKSUM_CHARS = 6; // ceil(32 / log2(62))
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RAW_KEY = new RegExp(
  `^${PREFIX}([0-9a-f]{8})_([0-9A-Za-z]{${SECRET_CHARS}})([0-9A-Za-z]{${CHECKSUM_CHARS}})$`,
);
export const API_KEY_ID = new RegExp(API_KEY_ID_PATTERN);
/**
 * A key's shape anywhere in a text, not inside a longer word: what a secret scanner looks for (docs/leaks.md
 * gives it to register with GitHub and GitLab) and what `kupe-server apikeys revoke-leaked` finds in its input.
 */
export const RAW_KEY_SHAPE = `(?<![0-9A-Za-z_])${PREFIX}[0-9a-f]{8}_[0-9A-Za-z]{${SECRET_CHARS + CHECKSUM_CHARS}}(?![0-9A-Za-z_])`;

/** Every distinct key-shaped string in `text` (checksums not checked: the revocation path checks everything). */
export function keysIn(text: string): string[] {
  return [...new Set(text.match(new RegExp(RAW_KEY_SHAPE, 'g')) ?? [])];
}

export interface ParsedApiKey {
  id: string;
  raw: string;
}

function toBase62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, '0');
}

/** CRC32 in base62; plain number arithmetic, since this runs on every request. */
function checksum(body: string): string {
  let rest = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

export function generateApiKeyId(): string {
  return `ak-${randomBytes(4).toString('hex')}`;
}

/** Makes a new raw key for the given id (`ak-xxxxxxxx`). */
export function generateRawApiKey(id: string): string {
  const secret = toBase62(BigInt(`0x${randomBytes(SECRET_BYTES).toString('hex')}`), SECRET_CHARS);
  const body = `${PREFIX}${id.slice(3)}_${secret}`;
  return body + checksum(body);
}

/** Returns the key's id when the text is a well-formed key with a valid checksum. */
export function parseRawApiKey(raw: string): ParsedApiKey | undefined {
  const m = RAW_KEY.exec(raw);
  if (!m) return undefined;
  const body = raw.slice(0, raw.length - CHECKSUM_CHARS);
  if (checksum(body) !== m[3]) return undefined;
  return { id: `ak-${m[1]}`, raw };
}

/** What the store keeps instead of the key: SHA-256 of the whole raw key, in hex. */
export function digestApiKey(raw: string): string {
  return sha256Hex(raw);
}

/** Constant-time comparison of two digests (crypto.timingSafeEqual; their lengths are not secret). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
