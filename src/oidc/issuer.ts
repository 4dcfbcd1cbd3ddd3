import { calculateJwkThumbprint, createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../domain/time.ts';
import { fetchJson } from '../outbound/fetch-json.ts';

/** The parts of the provider's discovery document Kupe reads (OpenID Connect Discovery 1.0). */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint_auth_methods_supported?: string[];
  /** The rest (endpoints...), read by openid-client. */
  [name: string]: unknown;
}

export interface IssuerSettings {
  issuer: string;
  /** Background refresh of the keys. */
  refreshSeconds: number;
  /** One fetch (discovery or keys) gives up after this. */
  fetchTimeoutMs?: number;
  /** A token signed by an unknown key fetches the keys at most this often. */
  unknownKeyCooldownMs?: number;
  /** What the cooldown is measured by. */
  clock: Clock;
  /** Called once per failed fetch, with what failed. */
  onError?: (message: string, error: unknown) => void;
  /** Called when keys arrive after a failure (or for the first time). */
  onRecovered?: (keyIds: string[]) => void;
}

/** More keys than this in one JWKS are not taken (a provider publishes a handful). */
export const MAX_KEYS = 100;
/** A discovery document or JWKS larger than this is refused. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

interface KeySet {
  get: JWTVerifyGetKey;
  keyIds: ReadonlySet<string>;
  /** RFC 7638 thumbprints of the keys' material. */
  thumbprints: ReadonlySet<string>;
}

/**
 * The identity provider's discovery document and signing keys, held in memory. Keys are fetched at start and
 * then every `refreshSeconds` in the background; a token signed by a key not yet seen fetches them again, at
 * most once per cooldown, shared by every request waiting. When the provider cannot be reached the keys
 * already held keep working. Verifying a token signed by a known key never calls the provider.
 */
export class IssuerKeys {
  readonly settings: Required<Omit<IssuerSettings, 'onError' | 'onRecovered'>> & Pick<IssuerSettings, 'onError' | 'onRecovered'>;
  #metadata: IssuerMetadata | undefined;
  #keys: KeySet | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAttempt = 0;
  #lastFailure: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: IssuerSettings) {
    this.settings = { fetchTimeoutMs: 5000, unknownKeyCooldownMs: 10_000, ...settings };
  }

  /** First fetch now (not awaited: Kupe serves API keys while the provider is down), then every refreshSeconds. */
  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.settings.refreshSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Why the last fetch failed; undefined once one succeeds. */
  get lastFailure(): string | undefined {
    return this.#lastFailure;
  }

  get keyIds(): ReadonlySet<string> {
    return this.#keys?.keyIds ?? new Set();
  }

  get thumbprints(): ReadonlySet<string> {
    return this.#keys?.thumbprints ?? new Set();
  }

  /** The key lookup for jose, or undefined before the first keys arrived. */
  get keySet(): JWTVerifyGetKey | undefined {
    return this.#keys?.get;
  }

  /** The discovery document, fetched now if it never was (the console's sign-in needs it). */
  async metadata(): Promise<IssuerMetadata> {
    // Bounded like an unknown key: a sign-in page opened again and again while the provider is down does
    // not fetch more often than the cooldown.
    if (!this.#metadata) await this.refreshForUnknownKey();
    if (!this.#metadata) throw new Error(`the identity provider could not be reached: ${this.#lastFailure ?? 'unknown error'}`);
    return this.#metadata;
  }

  /**
   * For a token whose key is not held: fetches the keys again unless that was tried within the cooldown
   * (then it waits for a fetch in flight, if any). Bounded by the fetch timeout.
   */
  async refreshForUnknownKey(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    if (this.settings.clock().getTime() - this.#lastAttempt < this.settings.unknownKeyCooldownMs) return;
    return this.refresh();
  }

  /** Fetches discovery (until it has it once) and the keys; one fetch at a time, failures kept, never thrown. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#fetchAll().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async #fetchAll(): Promise<void> {
    this.#lastAttempt = this.settings.clock().getTime();
    const hadFailed = this.#lastFailure !== undefined || this.#keys === undefined;
    try {
      this.#metadata ??= await this.#discover();
      const jwks = await this.#fetchJson(this.#metadata.jwks_uri, 'keys (jwks_uri)');
      const keys = (jwks as { keys?: unknown }).keys;
      if (!Array.isArray(keys)) throw new Error(`${this.#metadata.jwks_uri} is not a JWKS (no "keys" list)`);
      // Only signing keys; an encryption key is never a token's signer.
      const signing = (keys as Record<string, unknown>[]).filter((k) => k.use === undefined || k.use === 'sig').slice(0, MAX_KEYS);
      const set = { keys: signing as JWK[] };
      const get = createLocalJWKSet(set); // throws on a malformed key: the keys held stay as they were
      const thumbprints = await Promise.all(set.keys.map((k) => calculateJwkThumbprint(k).catch(() => undefined)));
      this.#keys = {
        get,
        keyIds: new Set(signing.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string')),
        thumbprints: new Set(thumbprints.filter((t): t is string => t !== undefined)),
      };
      this.#lastFailure = undefined;
      if (hadFailed) this.settings.onRecovered?.([...this.#keys.keyIds]);
    } catch (error) {
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      this.settings.onError?.(this.#lastFailure, error);
    }
  }

  async #discover(): Promise<IssuerMetadata> {
    const issuer = this.settings.issuer;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const doc = await this.#fetchJson(url, 'discovery document') as Partial<IssuerMetadata>;
    // OpenID Connect Discovery 1.0, 4.3: the document's issuer is exactly the one asked for.
    if (doc.issuer !== issuer) {
      throw new Error(`${url} names issuer ${JSON.stringify(doc.issuer)}, not ${JSON.stringify(issuer)}: set KUPE_OIDC_ISSUER to the provider's own value`);
    }
    if (typeof doc.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    return doc as IssuerMetadata;
  }

  #fetchJson(url: string, what: string): Promise<unknown> {
    return fetchJson(url, what, this.settings.fetchTimeoutMs, MAX_DOCUMENT_BYTES);
  }
}
