import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { Clock } from '../domain/time.ts';
import { fetchJson } from './fetch-json.ts';

/**
 * The keys that sign GitHub's secret-scanning reports, from GitHub's key document
 * (`{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`), held in memory:
 * - fetched when the first report arrives (an instance that never gets one never calls GitHub);
 * - fetched again when a report names a key not held, at most once per cooldown, every waiting report
 *   sharing the one fetch (a flood of made-up identifiers costs GitHub one request per cooldown);
 * - fetched again when the keys held are older than MAX_AGE_MS, before the report is checked; if that fails
 *   the keys held keep working (GitHub being unreachable does not stop revocations).
 * A report signed by any key of the document verifies, not only the current one (GitHub rotates keys).
 */
export interface ScannerKeySettings {
  url: string;
  clock: Clock;
  /** A report naming an unknown key fetches the document at most this often. */
  cooldownMs?: number;
  fetchTimeoutMs?: number;
  /** Called once per failed fetch, with what failed. */
  onError?: (message: string) => void;
}

/** Keys held this long are fetched again before the next report is checked. */
export const MAX_AGE_MS = 3_600_000;
/** More keys than this in the document are not taken (GitHub publishes a handful). */
const MAX_KEYS = 100;
const MAX_DOCUMENT_BYTES = 256 * 1024;

export type SignatureCheck =
  | { ok: true }
  | { ok: false; problem: 'unknown_key' | 'bad_signature'; message: string }
  | { ok: false; problem: 'keys_unavailable'; message: string; retryAfterSeconds: number };

export class ScannerKeys {
  readonly #settings: Required<Omit<ScannerKeySettings, 'onError'>> & Pick<ScannerKeySettings, 'onError'>;
  #keys = new Map<string, KeyObject>();
  #fetchedAt: number | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #lastFailure: string | undefined;

  constructor(settings: ScannerKeySettings) {
    this.#settings = { cooldownMs: 10_000, fetchTimeoutMs: 5000, ...settings };
  }

  /** Whether `signature` (base64 DER ECDSA over SHA-256) of `body` verifies with the key `keyId` names. */
  async check(body: Buffer, keyId: string, signature: string): Promise<SignatureCheck> {
    const now = this.#settings.clock().getTime();
    if (this.#fetchedAt === undefined || now - this.#fetchedAt > MAX_AGE_MS || !this.#keys.has(keyId)) await this.#refresh(now);
    const key = this.#keys.get(keyId);
    if (!key) {
      if (this.#fetchedAt === undefined) {
        return {
          ok: false, problem: 'keys_unavailable', retryAfterSeconds: Math.ceil(this.#settings.cooldownMs / 1000),
          message: `GitHub's secret-scanning keys could not be read: ${this.#lastFailure ?? 'not fetched yet'}`,
        };
      }
      return { ok: false, problem: 'unknown_key', message: 'the report is signed by a key GitHub does not publish (Github-Public-Key-Identifier)' };
    }
    let verified = false;
    try {
      verified = verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
    } catch {
      // A signature that is not DER at all.
    }
    return verified ? { ok: true } : { ok: false, problem: 'bad_signature', message: 'the report\'s signature does not verify (Github-Public-Key-Signature)' };
  }

  /** Fetches unless one was started within the cooldown; waits for one in flight. */
  #refresh(now: number): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (now - this.#lastAttempt < this.#settings.cooldownMs) return Promise.resolve();
    this.#lastAttempt = now;
    this.#inFlight = this.#fetch().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    try {
      const document = await fetchJson(this.#settings.url, "secret-scanning key document", this.#settings.fetchTimeoutMs, MAX_DOCUMENT_BYTES);
      this.#keys = parseKeyDocument(document, this.#settings.url);
      this.#fetchedAt = this.#settings.clock().getTime();
      this.#lastFailure = undefined;
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      this.#settings.onError?.(this.#lastFailure);
    }
  }
}

/** The P-256 keys of a key document by identifier; throws (keeping the keys held) when there are none. */
export function parseKeyDocument(document: unknown, url: string): Map<string, KeyObject> {
  const entries = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(entries)) throw new Error(`${url} is not a key document (no "public_keys" list)`);
  const keys = new Map<string, KeyObject>();
  for (const entry of entries.slice(0, MAX_KEYS) as { key_identifier?: unknown; key?: unknown }[]) {
    if (typeof entry?.key_identifier !== 'string' || typeof entry.key !== 'string') continue;
    try {
      const key = createPublicKey(entry.key);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') keys.set(entry.key_identifier, key);
    } catch {
      // Not a public key in PEM: skipped, the others are still taken.
    }
  }
  if (keys.size === 0) throw new Error(`${url} holds no ECDSA P-256 public key`);
  return keys;
}
