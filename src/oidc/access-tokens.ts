import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { type GroupTemplates, type ProviderRoles, rolesFromGroups } from '../domain/provider-groups.ts';
import type { IssuerKeys } from './issuer.ts';

export interface AccessTokenSettings extends GroupTemplates {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  groupsClaim: string;
}

/** Why a token was refused. */
export type TokenFailure =
  | 'malformed' | 'algorithm' | 'unknown_key' | 'signature' | 'issuer' | 'audience' | 'claims'
  | 'expired' | 'not_yet_valid' | 'missing_email' | 'unverified_email' | 'missing_groups' | 'provider_unavailable';

export type TokenCheck =
  | { ok: true; email: string; roles: ProviderRoles }
  | { ok: false; reason: TokenFailure; message: string; signatureVerified: boolean };

interface Verified {
  email: string;
  roles: ProviderRoles;
  /** The key that signed it: an entry is used only while that key is still held. */
  kid: string | undefined;
  keySet: JWTVerifyGetKey;
  /** Seconds since the epoch. */
  exp: number;
}

/**
 * Tokens that verified, by SHA-256 of the token, until they expire: an RS256 verification costs about 170 µs
 * here (more than the rest of a request), a SHA-256 of the token under 2 µs. An entry is used only while its
 * signing key is still among the keys held (a key the provider dropped ends its tokens' entries too) and
 * before its `exp` (with the leeway). Least recently used go first past `maxEntries`.
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, Verified>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  get(digest: string, keys: IssuerKeys, nowSeconds: number, toleranceSeconds: number): Verified | undefined {
    const entry = this.#entries.get(digest);
    if (!entry) return undefined;
    const keyHeld = entry.kid === undefined ? keys.keySet === entry.keySet : keys.keyIds.has(entry.kid);
    if (!keyHeld || entry.exp + toleranceSeconds <= nowSeconds) {
      this.#entries.delete(digest);
      return undefined;
    }
    this.#entries.delete(digest); // most recently used goes last
    this.#entries.set(digest, entry);
    return entry;
  }

  put(digest: string, entry: Verified): void {
    if (this.#maxEntries === 0) return;
    this.#entries.set(digest, entry);
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

function refused(reason: TokenFailure, message: string, signatureVerified = false): TokenCheck {
  return { ok: false, reason, message, signatureVerified };
}

/**
 * Verifies an access token from the configured issuer: algorithm (asymmetric, from the allowed list), key
 * (from the keys held in memory; an unknown `kid` fetches them again, bounded), signature, then iss, aud,
 * exp and nbf with the leeway, then the person: `email` (not marked unverified) and the groups claim.
 * jose checks the signature before any claim, so a claim failure means the token is genuine.
 */
export async function verifyAccessToken(
  token: string, keys: IssuerKeys, settings: AccessTokenSettings, verified: VerifiedTokens,
): Promise<TokenCheck> {
  const digest = createHash('sha256').update(token).digest('base64url');
  const known = verified.get(digest, keys, Date.now() / 1000, settings.clockToleranceSeconds);
  if (known) return { ok: true, email: known.email, roles: known.roles };

  let alg: string | undefined;
  let kid: string | undefined;
  try {
    ({ alg, kid } = decodeProtectedHeader(token));
  } catch {
    return refused('malformed', 'invalid token: not a JWT');
  }
  if (alg === undefined || !settings.algorithms.includes(alg)) {
    return refused('algorithm', `invalid token: algorithm ${JSON.stringify(alg ?? null)} not allowed (allowed: ${settings.algorithms.join(', ')})`);
  }
  if (keys.keySet === undefined || (kid !== undefined && !keys.keyIds.has(kid))) await keys.refreshForUnknownKey();
  const keySet = keys.keySet;
  if (keySet === undefined || (kid !== undefined && !keys.keyIds.has(kid))) {
    const failure = keys.lastFailure;
    if (failure !== undefined) {
      return refused('provider_unavailable', `cannot verify the token: its signing key ${JSON.stringify(kid ?? null)} is not among the ` +
        `keys Kupe holds, and the identity provider's keys could not be fetched (${failure}); retry later`);
    }
    return refused('unknown_key', `invalid token: signed by key ${JSON.stringify(kid ?? null)}, which the issuer does not publish`);
  }

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet, {
      issuer: settings.issuer, audience: settings.audience, algorithms: settings.algorithms,
      clockTolerance: settings.clockToleranceSeconds, requiredClaims: ['exp'],
    }));
  } catch (error) {
    return describeFailure(error, settings);
  }

  const email = payload.email;
  if (typeof email !== 'string' || email === '') return refused('missing_email', 'token missing email claim', true);
  if (payload.email_verified === false) return refused('unverified_email', 'token email not verified by the identity provider', true);
  const roles = rolesFromGroups(payload[settings.groupsClaim], settings);
  if (roles === undefined) return refused('missing_groups', `token missing ${settings.groupsClaim} claim`, true);
  const result = { email: email.trim().toLowerCase(), roles };
  if (payload.exp !== undefined) verified.put(digest, { ...result, kid, keySet, exp: payload.exp }); // exp is required above
  return { ok: true, ...result };
}

function describeFailure(error: unknown, settings: AccessTokenSettings): TokenCheck {
  if (error instanceof errors.JWTExpired) return refused('expired', 'token expired', true);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return refused('not_yet_valid', 'token not valid yet (nbf is in the future)', true);
    if (error.claim === 'iss') return refused('issuer', `invalid token: issuer is not ${settings.issuer}`, true);
    if (error.claim === 'aud') return refused('audience', `invalid token: audience is not ${settings.audience.join(' or ')}`, true);
    return refused('claims', `invalid token: claim ${error.claim} ${error.reason}`, true);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('signature', 'invalid token: signature does not verify');
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('algorithm', 'invalid token: algorithm not allowed');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return refused('unknown_key', 'invalid token: no single key of the issuer matches its header');
  }
  return refused('malformed', 'invalid token: not a well-formed JWT');
}
