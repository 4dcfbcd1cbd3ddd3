// The console is a client of the public API like any other: same routes,
// same errors. Types come from the server's schemas (import type only).
import type {
  ApiKey, AuditEntry, CreatedApiKey, CreatedWebhook, Delivery, Member, NewMember, Session, SignInMethods, Tenant, Webhook,
} from '../../src/http/schemas.ts';

export type { ApiKey, AuditEntry, CreatedWebhook, Delivery, Member, NewMember, Session, SignInMethods, Tenant, Webhook };
export type CreatedKey = CreatedApiKey;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** What a failed call shows the person: the API's own message, or the error's text. */
export function messageOf(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

let csrfToken = '';
let sessionEnded: () => void = () => {};

/**
 * The console's one way back to sign-in: whichever call finds the session gone (expired, signed out
 * elsewhere, password changed) calls this handler, which the app sets once.
 */
export function whenSessionEnds(handler: () => void) {
  sessionEnded = handler;
}

/** Remembers the session's CSRF token, sent on every unsafe request. */
export function setCsrfToken(token: string) {
  csrfToken = token;
}

export async function call<T>(
  method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<{ data: T; etag: string | null }> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(method !== 'GET' && { 'x-kupe-csrf': csrfToken }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => {
    throw new ApiError(0, 'network', 'Kupe did not answer: check your connection, then retry');
  });
  const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = data as { error?: string; code?: string } | undefined;
    if (res.status === 401 && (err?.code === 'session_invalid' || err?.code === 'authentication_required')) sessionEnded();
    throw new ApiError(res.status, err?.code ?? 'unknown', err?.error ?? `request failed (${res.status})`);
  }
  return { data: data as T, etag: res.headers.get('etag') };
}

/** The API path of a tenant (its name encoded), under /api/v1. */
export const tenantPath = (tenant: string) => `/tenants/${encodeURIComponent(tenant)}`;
