import type { Role } from './vocabulary.ts';
import { TENANT_NAME_PATTERN } from './vocabulary.ts';

/** Group-name templates, each holding `{tenant}` once: Kupe's default is `{tenant}-admins` and `{tenant}-readonly`. */
export interface GroupTemplates {
  adminGroup: string;
  readonlyGroup: string;
}

/** A person's roles by tenant, as the identity provider's groups give them. */
export type ProviderRoles = ReadonlyMap<string, Role>;

/** More groups than this in one token are not read past (a token is not a place for thousands). */
export const MAX_GROUPS = 500;

const TENANT = TENANT_NAME_PATTERN.slice(1, -1); // the pattern without its anchors

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templateRegExp(template: string): RegExp {
  const [before = '', after = ''] = template.split('{tenant}');
  return new RegExp(`^${escape(before)}(${TENANT})${escape(after)}$`);
}

/**
 * Reads a groups claim: undefined when the claim is missing or not a list of strings (such a token is
 * refused); otherwise the tenants it names, admin winning over readonly. Groups that match neither
 * template (other applications' groups) are ignored.
 */
export function rolesFromGroups(claim: unknown, templates: GroupTemplates): Map<string, Role> | undefined {
  if (!Array.isArray(claim) || !claim.every((g) => typeof g === 'string')) return undefined;
  const admin = templateRegExp(templates.adminGroup);
  const readonly = templateRegExp(templates.readonlyGroup);
  const roles = new Map<string, Role>();
  for (const group of claim.slice(0, MAX_GROUPS)) {
    const asAdmin = admin.exec(group)?.[1];
    if (asAdmin !== undefined) roles.set(asAdmin, 'admin');
    const asReadonly = readonly.exec(group)?.[1];
    if (asReadonly !== undefined && !roles.has(asReadonly)) roles.set(asReadonly, 'readonly');
  }
  return roles;
}

/** The stronger of two roles; either may be absent. */
export function strongerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  return a === 'admin' || b === 'admin' ? 'admin' : (a ?? b);
}
