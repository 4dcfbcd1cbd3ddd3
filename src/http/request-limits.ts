/** A request body may be at most this large (413 `body_too_large`). */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** A path segment may be at most this long (414 `url_too_long`). */
export const MAX_PARAM_LENGTH = 300;
