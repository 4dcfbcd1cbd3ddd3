export const ROLES = ['admin', 'readonly'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return value === 'admin' || value === 'readonly';
}

/** Who is making a request, once authenticated. */
export type Principal =
  | { kind: 'apikey'; tenant: string; role: Role; keyId: string; displayName: string }
  | { kind: 'member'; tenant: string; role: Role; email: string };

/** The string recorded as `createdBy` and as the audit actor. */
export function actorName(principal: Principal): string {
  return principal.kind === 'apikey' ? principal.keyId : principal.email;
}

/** The operator CLI acts outside any tenant; this is how it appears in records. */
export const OPERATOR_ACTOR = 'operator';
