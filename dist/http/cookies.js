export const SESSION_COOKIE = 'kupe_session';
/** The value of one cookie of the request, if sent. */
export function readCookie(request, name) {
    const header = request.headers.cookie;
    if (!header)
        return undefined;
    for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === name)
            return part.slice(eq + 1).trim();
    }
    return undefined;
}
/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), Secure whenever the request came over https (directly or through a
 * trusted proxy), Path=/ since the console and the API share the origin.
 */
export function setSessionCookie(request, reply, token, maxAgeSeconds) {
    const secure = request.protocol === 'https' ? '; Secure' : '';
    void reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`);
}
export function clearSessionCookie(request, reply) {
    setSessionCookie(request, reply, '', 0);
}
/** The request's own origin, as a browser would send it in Origin. */
export function ownOrigin(request) {
    return `${request.protocol}://${request.host}`;
}
