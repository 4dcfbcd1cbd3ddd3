import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors, exportJWK, jwtVerify, type JWTPayload } from 'jose';
import { canonicalEmail } from '../domain/email.ts';
import { Lru } from '../lru.ts';
import { AppError } from '../domain/errors.ts';
import { type GroupTemplates, type ProviderRoles, rolesFromGroups } from '../domain/provider-groups.ts';
import type { IssuerKeys } from './issuer.ts';

export interface AccessTokenSettings extends GroupTemplates {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  groupsClaim: string;
  /** Take a token without `email_verified` (it must still not say anything but `true` when present). */
  acceptMissingEmailVerified: boolean;
}

/** Why a token was refused. */
export type TokenFailure =
  | 'malformed' | 'algorithm' | 'unknown_key' | 'signature' | 'issuer' | 'audience' | 'claims'
  | 'expired' | 'not_yet_valid' | 'missing_email' | 'invalid_email' | 'unverified_email' | 'missing_groups'
  | 'identity_conflict' | 'provider_unavailable';

export type TokenCheck =
  | { ok: true; email: string; roles: ProviderRoles }
  | { ok: false; reason: TokenFailure; message: string; signatureVerified: boolean };

interface Verified {
  email: string;
  roles: ProviderRoles;
  /**
   * The RFC 7638 thumbprint of the key that signed it: an entry is used only while that key material is still
   * held. Not its `kid`: a provider may publish new material under an old `kid`.
   */
  thumbprint: string;
  /** Seconds since the epoch: the token's `exp` (with the leeway), or the cache's own cap if sooner. */
  until: number;
}

/**
 * Tokens that verified, by SHA-256 of the token: an RS256 verification costs about 170 µs here (more than the
 * rest of a request), a SHA-256 of the token under 2 µs. An entry is used only while its signing key is still
 * among the keys held (a key the provider dropped or replaced ends its tokens' entries too), before its `exp`
 * (with the leeway) and for at most `maxAgeSeconds` (then the token is verified again). Least recently used go
 * first past `maxEntries`.
 */
export class VerifiedTokens {
  readonly #entries: Lru<string, Verified>;
  readonly maxAgeSeconds: number;

  constructor(maxAgeSeconds: number, maxEntries = 10_000) {
    this.maxAgeSeconds = maxAgeSeconds;
    this.#entries = new Lru(maxAgeSeconds === 0 ? 0 : maxEntries);
  }

  get(digest: string, keys: IssuerKeys, nowSeconds: number): Verified | undefined {
    const entry = this.#entries.get(digest);
    if (!entry) return undefined;
    if (!keys.thumbprints.has(entry.thumbprint) || entry.until <= nowSeconds) {
      this.#entries.delete(digest);
      return undefined;
    }
    return entry;
  }

  put(digest: string, entry: Verified): void {
    this.#entries.set(digest, entry);
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
  token: string, now: Date, keys: IssuerKeys, settings: AccessTokenSettings, verified: VerifiedTokens,
  identityMatches: (subject: string, email: string) => Promise<boolean> = async () => true,
): Promise<TokenCheck> {
  const digest = createHash('sha256').update(token).digest('base64url');
  const nowSeconds = now.getTime() / 1000;
  const known = verified.get(digest, keys, nowSeconds);
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
  let signer;
  try {
    ({ payload, key: signer } = await jwtVerify(token, keySet, {
      issuer: settings.issuer, audience: settings.audience, algorithms: settings.algorithms,
      clockTolerance: settings.clockToleranceSeconds, requiredClaims: ['exp'], currentDate: now,
    }));
  } catch (error) {
    return describeFailure(error, settings);
  }

  const claim = payload.email;
  if (typeof claim !== 'string' || claim === '') return refused('missing_email', 'token missing email claim', true);
  const vouched = payload.email_verified === true || (settings.acceptMissingEmailVerified && payload.email_verified === undefined);
  if (!vouched) return refused('unverified_email', 'token email not verified by the identity provider (email_verified must be true)', true);
  let email: string;
  try {
    email = canonicalEmail('the token\'s email claim', claim);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return refused('invalid_email', `invalid token: ${error.message}`, true);
  }
  const roles = rolesFromGroups(payload[settings.groupsClaim], settings);
  if (roles === undefined) return refused('missing_groups', `token missing ${settings.groupsClaim} claim`, true);
  // The identity links of console sign-ins (docs/security.md, "One person, one account"); checked once per
  // token, not per request: the result is cached with the token.
  if (typeof payload.sub === 'string' && !(await identityMatches(payload.sub, email))) {
    return refused('identity_conflict', `invalid token: ${email} is linked to another identity at the provider, ` +
      'or this identity to another Kupe account; ask your operator', true);
  }
  const result = { email, roles };
  if (verified.maxAgeSeconds > 0 && payload.exp !== undefined) { // exp is required above
    const thumbprint = await calculateJwkThumbprint(await exportJWK(signer));
    const until = Math.min(payload.exp + settings.clockToleranceSeconds, nowSeconds + verified.maxAgeSeconds);
    verified.put(digest, { ...result, thumbprint, until });
  }
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
