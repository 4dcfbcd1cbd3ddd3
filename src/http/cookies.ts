import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'kupe_session';

/**
 * A request's cookie, parsed when first asked for: most requests (keys, tokens, the gateway's) carry none
 * that matters, so @fastify/cookie is registered without its per-request parsing hook (app.ts).
 */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  request.cookies ??= request.server.parseCookie(request.headers.cookie ?? '');
  return request.cookies[name];
}

/** The console session's token (none when absent or empty). */
export function sessionToken(request: FastifyRequest): string | undefined {
  return cookieOf(request, SESSION_COOKIE) || undefined;
}

/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), Secure whenever the request came over https (directly or through a
 * trusted proxy), Path=/ since the console and the API share the origin.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number) {
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/', httpOnly: true, sameSite: 'strict', maxAge: maxAgeSeconds, secure: request.protocol === 'https',
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply) {
  setSessionCookie(request, reply, '', 0);
}

/** The request's own origin, as a browser would send it in Origin. */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Holds state, nonce and PKCE verifier while the browser is at the identity provider. */
export const PENDING_SIGN_IN_COOKIE = 'kupe_oidc';
/** How long a sign-in at the identity provider may take. */
export const PENDING_SIGN_IN_SECONDS = 600;

/**
 * SameSite=Lax, unlike the session cookie: the provider sends the browser back with a top-level GET from its
 * own site, which a Strict cookie would not ride on. HttpOnly and scoped to /oidc.
 */
export function setPendingSignInCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number) {
  void reply.setCookie(PENDING_SIGN_IN_COOKIE, value, {
    path: '/oidc', httpOnly: true, sameSite: 'lax', maxAge: maxAgeSeconds, secure: request.protocol === 'https',
  });
}
