import type { FastifyRequest } from 'fastify';
import { authenticateSession } from '../../domain/sessions.ts';
import { authenticateApiKey, type AuthFailure, type VerifyResult } from '../../domain/api-keys.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import type { ProviderRoles } from '../../domain/provider-groups.ts';
import type { Store } from '../../domain/store.ts';
import type { Principal } from '../../domain/roles.ts';
import type { TokenFailure } from '../../oidc/access-tokens.ts';
import { looksLikeJwt } from '../../oidc/token-shape.ts';
import { sessionToken } from '../cookies.ts';
import type { Access, Account, BearerTokens, GuardDeps } from './types.ts';

/** What a request proved it is. */
export type Credential =
  | { kind: 'apikey'; principal: Extract<Principal, { kind: 'apikey' }> }
  | { kind: 'token'; email: string; roles: ProviderRoles }
  | { kind: 'session'; account: Account };

/** Why it proved nothing: the answer, the metric's reason, and whether it looks like guessing. */
export interface CredentialFailure {
  code: ErrorCode;
  message: string;
  /** The `reason` label of kupe_authentications_total; undefined: not counted there. */
  metric: string | undefined;
  looksLikeGuessing: boolean;
  /** Retry-After, when waiting helps (the provider's keys could not be fetched). */
  retryAfterSeconds?: number;
}

export type CredentialCheck = { ok: true; credential: Credential } | { ok: false; failure: CredentialFailure };

const KEY_FAILURE: Record<AuthFailure, { code: ErrorCode; message: string }> = {
  malformed: { code: 'invalid_api_key', message: 'invalid api key' },
  unknown: { code: 'invalid_api_key', message: 'invalid api key' },
  wrong_secret: { code: 'invalid_api_key', message: 'invalid api key' },
  expired: { code: 'api_key_expired', message: 'api key expired' },
  revoked: { code: 'api_key_revoked', message: 'api key revoked' },
  tenant_disabled: { code: 'tenant_disabled', message: "the key's tenant is disabled by the operator: its keys and members are refused until it is enabled" },
};

/**
 * Only these failures count towards the backoff (docs/behaviour.md, "Authentication backoff"): a genuine
 * key that is revoked or expired is a forgotten pipeline, not a guess, and a missing header guesses nothing.
 */
const KEY_GUESSES = new Set<AuthFailure>(['malformed', 'unknown', 'wrong_secret']);

const TOKEN_FAILURE_CODE: Partial<Record<TokenFailure, ErrorCode>> = {
  expired: 'token_expired', missing_groups: 'token_missing_groups', provider_unavailable: 'identity_provider_unavailable',
};

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  return /^Bearer +(\S+) *$/i.exec(header)?.[1];
}

/**
 * The request's credential: a bearer API key or access token (routes other than `session` ones), else the
 * console's session cookie. Each kind is one function below; a new kind is one more.
 */
export function readCredential(request: FastifyRequest, access: Access, deps: GuardDeps, now: Date): CredentialCheck | Promise<CredentialCheck> {
  const token = access === 'session' ? undefined : bearerToken(request);
  // A gateway's callers are pipelines and services: the console's cookie is for Kupe's own origin only.
  if (token === undefined && access === 'gateway') return { ok: false, failure: MISSING };
  if (token === undefined) return readSession(request, access, deps, now);
  if (deps.accessTokens && looksLikeJwt(token)) return readAccessToken(token, deps.accessTokens, deps.store, now);
  return readApiKey(token, deps, now);
}

/** A key whose row is at hand (cached) is checked at once, without a promise: the common case. */
function readApiKey(token: string, deps: GuardDeps, now: Date): CredentialCheck | Promise<CredentialCheck> {
  const result = authenticateApiKey(deps.store, token, now);
  return result instanceof Promise ? result.then(keyCheck) : keyCheck(result);
}

function keyCheck(result: VerifyResult): CredentialCheck {
  if (result.ok) return { ok: true, credential: { kind: 'apikey', principal: result.principal } };
  const { code, message } = KEY_FAILURE[result.reason];
  return { ok: false, failure: { code, message, metric: result.reason, looksLikeGuessing: KEY_GUESSES.has(result.reason) } };
}

/**
 * A token of the identity provider. A verified token may be remembered (src/oidc/access-tokens.ts) for
 * minutes; whether its person's account is disabled is read on every request, so disabling takes effect at
 * once.
 */
async function readAccessToken(token: string, oidc: BearerTokens, store: Store, now: Date): Promise<CredentialCheck> {
  const check = await oidc.verify(token, now);
  if (check.ok) {
    if (await store.users.isDisabled(check.email)) return { ok: false, failure: ACCOUNT_DISABLED };
    return { ok: true, credential: { kind: 'token', email: check.email, roles: check.roles } };
  }
  return {
    ok: false,
    failure: {
      code: TOKEN_FAILURE_CODE[check.reason] ?? 'invalid_token', message: check.message, metric: `token_${check.reason}`,
      // A token whose signature verified is genuine (expired, or for another audience): not a guess.
      looksLikeGuessing: check.reason !== 'provider_unavailable' && !check.signatureVerified,
      ...(check.reason === 'provider_unavailable' && { retryAfterSeconds: oidc.retryAfterSeconds }),
    },
  };
}

const ACCOUNT_DISABLED: CredentialFailure = {
  code: 'account_disabled', metric: 'account_disabled', looksLikeGuessing: false,
  message: 'this account is disabled by the operator; ask your operator',
};

const MISSING: CredentialFailure = {
  code: 'authentication_required', metric: 'missing', looksLikeGuessing: false,
  message: 'authentication required: send Authorization: Bearer <api key>',
};

async function readSession(request: FastifyRequest, access: Access, deps: GuardDeps, now: Date): Promise<CredentialCheck> {
  const cookie = sessionToken(request);
  if (!cookie) return { ok: false, failure: access === 'session' ? { ...MISSING, message: 'sign in first' } : MISSING };
  const result = await authenticateSession(deps.store, cookie, now, deps.sessions);
  if (!result.ok) {
    return { ok: false, failure: { code: 'session_invalid', message: 'your session has ended; sign in again', metric: undefined, looksLikeGuessing: false } };
  }
  const oidc = result.session.method === 'oidc';
  return {
    ok: true,
    credential: {
      kind: 'session',
      account: {
        email: result.user.email, sessionId: result.session.id, csrfToken: result.session.csrfToken,
        // The provider vouched for the person: a one-time Kupe password still pending does not stand in the way.
        mustChangePassword: result.user.mustChangePassword && !oidc,
        method: oidc ? 'oidc' : 'password', providerRoles: result.session.providerRoles ?? {},
      },
    },
  };
}
