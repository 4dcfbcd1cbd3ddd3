/**
 * The one catalogue of error codes. The HTTP layer maps each code to a status
 * (src/http/errors.ts) and the operator CLI to an exit code; docs/errors.md
 * documents every entry. Adding a code here without a status is a type error.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unknown_field'
  | 'invalid_json'
  | 'invalid_tenant_name'
  | 'invalid_api_key_id'
  | 'cannot_remove_self'
  | 'authentication_required'
  | 'invalid_api_key'
  | 'api_key_expired'
  | 'api_key_revoked'
  | 'invalid_credentials'
  | 'session_invalid'
  | 'invalid_token'
  | 'token_expired'
  | 'token_missing_groups'
  | 'identity_provider_unavailable'
  | 'password_sign_in_disabled'
  | 'invite_invalid'
  | 'password_reset_invalid'
  | 'password_reset_off'
  | 'invite_for_another_account'
  | 'account_exists'
  | 'identity_conflict'
  | 'csrf_rejected'
  | 'password_change_required'
  | 'not_a_member'
  | 'admin_required'
  | 'tenant_disabled'
  | 'account_disabled'
  | 'gateway_request_invalid'
  | 'gateway_no_rule'
  | 'plan_change_forbidden'
  | 'leak_reports_off'
  | 'scanner_signature_invalid'
  | 'scanner_token_invalid'
  | 'scanner_keys_unavailable'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'tenant_not_found'
  | 'member_not_found'
  | 'user_not_found'
  | 'api_key_not_found'
  | 'webhook_not_found'
  | 'plan_not_found'
  | 'tenant_already_exists'
  | 'member_already_exists'
  | 'member_not_pending'
  | 'last_admin'
  | 'api_key_limit_reached'
  | 'api_key_not_leaked'
  | 'webhook_limit_reached'
  | 'member_limit_reached'
  | 'etag_mismatch'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'sign_in_throttled'
  | 'password_reset_throttled'
  | 'auth_backoff'
  | 'malformed_request'
  | 'request_timeout'
  | 'url_too_long'
  | 'headers_too_large'
  | 'internal_error'
  | 'store_unavailable'
  | 'not_ready';

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }
}

export function validationError(message: string): AppError {
  return new AppError('validation_failed', message);
}
