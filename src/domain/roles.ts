import { ROLES, type Role } from './vocabulary.ts';

export type { Role };

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
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
