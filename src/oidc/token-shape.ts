/**
 * Three base64url parts, the first a JSON object: what a JWT looks like before anything is checked. Kept apart
 * from access-tokens.ts so that the guard tells tokens from keys without loading jose (loaded only when
 * KUPE_OIDC_ISSUER is set).
 */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
