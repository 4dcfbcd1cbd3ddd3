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

/**
 * What is wrong with a pair of templates, in words (empty: nothing). Each must hold `{tenant}` once and some
 * literal text (a bare `{tenant}` would read every group of the provider as a tenant), and no group name may
 * match both: `team-{tenant}` and `{tenant}-readonly` both match `team-x-readonly` (admin of `x-readonly`,
 * readonly of `team-x`). Two templates can match one name only when one's text before `{tenant}` starts the
 * other's and one's text after it ends the other's, so that is what is refused.
 */
export function groupTemplateProblems(templates: GroupTemplates, names: GroupTemplates): string[] {
  const problems: string[] = [];
  const parts: [string, string][] = [];
  for (const which of ['adminGroup', 'readonlyGroup'] as const) {
    const template = templates[which];
    const split = template.split('{tenant}');
    if (split.length !== 2) problems.push(`${names[which]}=${JSON.stringify(template)}: must hold {tenant} exactly once`);
    else if (template === '{tenant}') problems.push(`${names[which]}="{tenant}": needs literal text around {tenant} (e.g. {tenant}-admins)`);
    else parts.push([split[0]!, split[1]!]);
  }
  const [admin, readonly] = parts;
  if (admin && readonly) {
    const prefixesMeet = admin[0].startsWith(readonly[0]) || readonly[0].startsWith(admin[0]);
    const suffixesMeet = admin[1].endsWith(readonly[1]) || readonly[1].endsWith(admin[1]);
    if (prefixesMeet && suffixesMeet) {
      problems.push(`${names.adminGroup} and ${names.readonlyGroup} (${JSON.stringify(templates.adminGroup)}, ` +
        `${JSON.stringify(templates.readonlyGroup)}) can match the same group name: give them different text before or after {tenant}`);
    }
  }
  return problems;
}

/** The stronger of two roles; either may be absent. */
export function strongerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  return a === 'admin' || b === 'admin' ? 'admin' : (a ?? b);
}
