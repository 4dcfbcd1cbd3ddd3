import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'kupe_session';

/** The console session's token, from the cookie @fastify/cookie parsed (none when absent or empty). */
export function sessionToken(request: FastifyRequest): string | undefined {
  return request.cookies[SESSION_COOKIE] || undefined;
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
