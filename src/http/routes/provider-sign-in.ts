import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordSessionEvent } from '../../domain/memberships.ts';
import { signInWithProvider } from '../../domain/provider-sign-in.ts';
import { AppError, type ErrorCode } from '../../domain/errors.ts';
import type { SignInFailure } from '../../domain/vocabulary.ts';
import type { ConsoleSignIn, PendingSignIn } from '../../oidc/sign-in.ts';
import {
  cookieOf, ownOrigin, PENDING_SIGN_IN_COOKIE, PENDING_SIGN_IN_SECONDS, setPendingSignInCookie, setSessionCookie,
} from '../cookies.ts';
import { errorResponses, SignInMethodsSchema } from '../schemas.ts';
import { type App, requestContext, type RouteDeps } from './context.ts';

/** The console's sign-in through the identity provider, when one is configured. */
export interface ProviderSignIn {
  flow: ConsoleSignIn;
  /** Shown as "Sign in with <name>". */
  name: string;
  /** Registered at the provider; undefined: this request's origin + /oidc/callback. */
  redirectUri: string | undefined;
}

const tags = ['console session'];

/**
 * Where the browser goes after a failed sign-in: the console's sign-in page, which shows the message of the
 * code (SIGN_IN_FAILURES) and nothing a link could carry. The details go to the log.
 */
function backToSignIn(reply: FastifyReply, code: SignInFailure) {
  return reply.redirect(`/#/sign-in?error=${code}`, 303);
}

const FAILURE_OF: Partial<Record<ErrorCode, SignInFailure>> = {
  invalid_credentials: 'email_unverified', validation_failed: 'email_not_accepted', identity_conflict: 'identity_conflict',
  account_disabled: 'account_disabled',
};

/** The provider's own words (error_description) when it refused; otherwise what openid-client found wrong. */
function describeFailure(error: unknown): string {
  const { error_description: description, cause } = error as { error_description?: unknown; cause?: unknown };
  if (typeof description === 'string') return description;
  const message = error instanceof Error ? error.message : 'unknown error';
  return cause instanceof Error ? `${message} (${cause.message})` : message;
}

function readPending(request: FastifyRequest): PendingSignIn | undefined {
  const raw = cookieOf(request, PENDING_SIGN_IN_COOKIE);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Partial<PendingSignIn>;
    const { state, nonce, verifier, redirectUri } = parsed;
    if ([state, nonce, verifier, redirectUri].every((v) => typeof v === 'string')) return parsed as PendingSignIn;
  } catch {
    // a cookie this code did not write: as good as none
  }
  return undefined;
}

export function providerSignInRoutes(app: App, deps: RouteDeps, provider: ProviderSignIn | null) {
  app.get('/api/v1/sign-in-methods', {
    config: { access: 'public' },
    schema: {
      summary: 'How people sign in to the console',
      description: 'Kupe passwords, the identity provider (OpenID Connect), or both, as the operator configured.',
      tags, response: { 200: SignInMethodsSchema, ...errorResponses(429) },
    },
  }, async () => ({
    password: deps.passwordSignIn,
    email: deps.mail !== undefined,
    ...(provider && { provider: { name: provider.name, url: '/oidc/login' } }),
  }));

  if (!provider) return;
  const redirectUri = (request: FastifyRequest) => provider.redirectUri ?? `${ownOrigin(request)}/oidc/callback`;

  app.get('/oidc/login', {
    config: { access: 'public' },
    schema: {
      summary: 'Sign in through the identity provider',
      description: 'A browser navigation: answers 303 to the provider (authorization code with PKCE, state and nonce).',
      tags, response: { 303: Type.Null(), ...errorResponses(429) },
    },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    let started;
    try {
      started = await provider.flow.begin(redirectUri(request));
    } catch (error) {
      request.log.error({ err: error }, 'could not start a sign-in through the identity provider');
      return backToSignIn(reply, 'provider_unreachable');
    }
    setPendingSignInCookie(request, reply, Buffer.from(JSON.stringify(started.pending)).toString('base64url'), PENDING_SIGN_IN_SECONDS);
    return reply.redirect(started.url, 303);
  });

  app.get('/oidc/callback', {
    config: { access: 'public' },
    schema: {
      summary: 'Where the identity provider sends the browser back',
      description: 'Register this URL (or KUPE_OIDC_REDIRECT_URI) at the provider. Answers 303 to the console.',
      tags,
      // The provider adds parameters of its own (iss, session_state, ...): all are passed to openid-client.
      querystring: Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) }),
      response: { 303: Type.Null(), ...errorResponses(429) },
    },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const pending = readPending(request);
    setPendingSignInCookie(request, reply, '', 0); // one use
    if (!pending) {
      return backToSignIn(reply, 'not_started');
    }
    const at = request.url.indexOf('?');
    let identity;
    try {
      identity = await provider.flow.finish(at === -1 ? '' : request.url.slice(at + 1), pending);
    } catch (error) {
      const reason = describeFailure(error);
      request.log.warn({ err: error, reason }, 'sign-in through the identity provider failed');
      return backToSignIn(reply, (error as { error?: unknown }).error === undefined ? 'sign_in_failed' : 'provider_refused');
    }
    let result;
    const ctx = requestContext(request, deps);
    try {
      result = await signInWithProvider(deps.store, identity, ctx, deps.sessions);
      await recordSessionEvent(deps.store, 'session.signin', {
        email: result.user.email, method: 'oidc', providerRoles: result.providerRoles, ctx,
      });
      setSessionCookie(request, reply, result.session.token, deps.sessions.absoluteSeconds);
    } catch (error) {
      if (!(error instanceof AppError)) throw error; // a store fault: 503 like any request
      request.log.warn({ code: error.code, reason: error.message }, 'sign-in through the identity provider refused');
      return backToSignIn(reply, FAILURE_OF[error.code] ?? 'sign_in_failed');
    }
    // The person sees that a password on their account was voided, and which tenants they are in.
    return reply.redirect(result.voidedPassword ? '/#/account-secured' : '/', 303);
  });
}
