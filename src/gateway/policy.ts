import { isTenantName } from '../domain/validation.ts';
import { ROLES, type Role } from '../domain/vocabulary.ts';

/**
 * The gateway policy: for a request a gateway (nginx, Caddy...) asks about, where its tenant comes from,
 * which paths are public, and which role each method and path needs. The operator writes it as JSON
 * (KUPE_GATEWAY_POLICY; docs/gateway.md); `parsePolicy` checks it at start and names every problem.
 * Pure: no HTTP, no store.
 */
export interface GatewayPolicy {
  readonly tenant: TenantSource;
  readonly public: readonly PathRule[];
  readonly rules: readonly RoleRule[];
}

/** What a rule asks of the caller: a role in the request's tenant, or any valid credential. */
export type Need = Role | 'authenticated';

type TenantSource =
  | { from: 'path'; segments: readonly string[] }
  | { from: 'host'; prefix: string; suffix: string }
  | { from: 'header'; name: string };

interface PathRule {
  /** As written, for messages. */
  readonly text: string;
  /** null: every method. */
  readonly methods: ReadonlySet<string> | null;
  readonly segments: readonly string[];
}

interface RoleRule extends PathRule {
  readonly need: Need;
}

/** What the gateway asked about: the original request, as the gateway's headers describe it. */
export interface OriginalRequest {
  method: string;
  /** The path and query the client sent (X-Original-URI, X-Forwarded-Uri). */
  uri: string;
  /** The host the client asked for (X-Forwarded-Host), if any. */
  host: string | undefined;
  /** The headers the gateway passed on, by lower-case name (a tenant header among them). */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type Decision =
  | { kind: 'public' }
  | { kind: 'protected'; need: Need; tenant: string | undefined; rule: string }
  | { kind: 'refused'; code: 'gateway_request_invalid' | 'gateway_no_rule' | 'invalid_tenant_name'; message: string };

/** For a REST platform: tenant from `/api/v1/tenants/{tenant}/...`, GET and HEAD need readonly, the rest admin. */
export const DEFAULT_POLICY_SOURCE = {
  tenant: { path: '/api/v1/tenants/{tenant}' },
  public: [],
  rules: [
    { match: 'GET,HEAD /api/v1/tenants/*/**', role: 'readonly' },
    { match: '/api/v1/tenants/*/**', role: 'admin' },
  ],
};

const METHOD = /^[A-Z]{1,20}$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const NEEDS: readonly string[] = [...ROLES, 'authenticated'];

/** The policy, or every problem with it (each naming where it is). */
export function parsePolicy(source: unknown): { policy: GatewayPolicy; problems: [] } | { policy: undefined; problems: string[] } {
  const problems: string[] = [];
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    return { policy: undefined, problems: ['the policy must be a JSON object with "tenant", "public" and "rules"'] };
  }
  const { tenant, public: open = [], rules, ...unknown } = source as Record<string, unknown>;
  for (const key of Object.keys(unknown)) problems.push(`unknown field "${key}" (the fields are "tenant", "public" and "rules")`);
  const tenantSource = parseTenantSource(tenant, problems);
  const publicRules = parseList(open, 'public', problems).map((entry, i) => {
    if (typeof entry !== 'string') {
      problems.push(`public[${i}]: must be a string such as "GET /healthz" or "/docs/**"`);
      return undefined;
    }
    return parsePathRule(entry, `public[${i}]`, problems);
  });
  const roleRules = parseList(rules, 'rules', problems).map((entry, i) => parseRoleRule(entry, `rules[${i}]`, problems));
  if (Array.isArray(rules) && rules.length === 0) problems.push('rules: at least one rule (else every request but the public ones is refused)');
  if (problems.length > 0 || !tenantSource) return { policy: undefined, problems };
  return {
    policy: Object.freeze({
      tenant: tenantSource,
      public: publicRules.filter((r): r is PathRule => r !== undefined),
      rules: roleRules.filter((r): r is RoleRule => r !== undefined),
    }),
    problems: [],
  };
}

function parseList(value: unknown, name: string, problems: string[]): unknown[] {
  if (Array.isArray(value)) return value;
  problems.push(`${name}: must be a list`);
  return [];
}

function parseTenantSource(value: unknown, problems: string[]): TenantSource | undefined {
  const entries = typeof value === 'object' && value !== null ? Object.entries(value) : [];
  if (entries.length !== 1) {
    problems.push('tenant: must be one of {"path": "/prefix/{tenant}"}, {"host": "{tenant}.example.com"} or {"header": "X-Tenant"}');
    return undefined;
  }
  const [[from, text]] = entries as [[string, unknown]];
  if (typeof text !== 'string') {
    problems.push(`tenant.${from}: must be a string`);
    return undefined;
  }
  if (from === 'path') {
    const segments = text.split('/').slice(1);
    if (!text.startsWith('/') || segments.at(-1) !== '{tenant}' || segments.slice(0, -1).some((s) => s === '' || s.includes('{') || s.includes('*'))) {
      problems.push(`tenant.path "${text}": must be literal segments ending in /{tenant}, such as /api/v1/tenants/{tenant}`);
      return undefined;
    }
    return { from, segments };
  }
  if (from === 'host') {
    const [prefix, suffix, ...more] = text.toLowerCase().split('{tenant}');
    if (suffix === undefined || more.length > 0 || /[^a-z0-9.-]/.test(prefix! + suffix)) {
      problems.push(`tenant.host "${text}": must hold {tenant} once among host name characters, such as {tenant}.platform.example.com`);
      return undefined;
    }
    return { from, prefix: prefix!, suffix };
  }
  if (from === 'header') {
    if (!HEADER_NAME.test(text)) {
      problems.push(`tenant.header "${text}": not a header name`);
      return undefined;
    }
    return { from, name: text.toLowerCase() };
  }
  problems.push(`tenant: unknown source "${from}" (path, host or header)`);
  return undefined;
}

/** `"GET,HEAD /path/*\/**"` or `"/path"`: methods (all when none), then a path pattern. */
function parsePathRule(text: string, where: string, problems: string[]): PathRule | undefined {
  const [first = '', second, ...rest] = text.trim().split(/\s+/);
  const [methodList, path] = second === undefined ? [undefined, first] : [first, second];
  if (rest.length > 0 || !path.startsWith('/')) {
    problems.push(`${where} "${text}": must be "PATH" or "METHODS PATH", the path starting with /`);
    return undefined;
  }
  const methods = methodList?.split(',') ?? null;
  const badMethods = methods?.filter((m) => !METHOD.test(m)) ?? [];
  if (badMethods.length > 0) problems.push(`${where} "${text}": ${badMethods.map((m) => `"${m}"`).join(', ')} not an HTTP method in capitals`);
  const segments = path.split('/').slice(1);
  const doubleStar = segments.indexOf('**');
  if (doubleStar !== -1 && doubleStar !== segments.length - 1) problems.push(`${where} "${text}": ** only as the last segment`);
  if (segments.some((s, i) => (s === '' && i !== segments.length - 1) || s === '.' || s === '..' || (s.includes('*') && s !== '*' && s !== '**'))) {
    problems.push(`${where} "${text}": segments are literal text, * (one segment) or ** (the rest), with no empty, . or .. segment`);
  }
  if (badMethods.length > 0) return undefined;
  return { text, methods: methods && new Set(methods), segments };
}

function parseRoleRule(entry: unknown, where: string, problems: string[]): RoleRule | undefined {
  if (typeof entry !== 'object' || entry === null) {
    problems.push(`${where}: must be {"match": "METHODS PATH", "role": "readonly" | "admin" | "authenticated"}`);
    return undefined;
  }
  const { match, role, ...unknown } = entry as Record<string, unknown>;
  for (const key of Object.keys(unknown)) problems.push(`${where}: unknown field "${key}" (match, role)`);
  if (typeof role !== 'string' || !NEEDS.includes(role)) {
    problems.push(`${where}: role must be one of ${NEEDS.join(', ')}`);
  }
  if (typeof match !== 'string') {
    problems.push(`${where}: match must be a string such as "GET,HEAD /api/v1/tenants/*/**"`);
    return undefined;
  }
  const rule = parsePathRule(match, where, problems);
  return rule && NEEDS.includes(role as string) ? { ...rule, need: role as Need } : undefined;
}

/**
 * A path that servers could read differently is refused, so that the path the policy decides on is the one
 * the upstream serves: no empty, `.` or `..` segment, no encoded slash, backslash or dot, no control
 * character (docs/gateway.md, "Paths").
 */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const AMBIGUOUS = /\/\/|\/\.\.?(?:\/|$)|%2f|%5c|%2e|%00|\\|[\u0000-\u001f\u007f]/i;

/** The policy's answer for the original request. (Loops, not closures: this runs on every verification.) */
export function decide(policy: GatewayPolicy, request: OriginalRequest): Decision {
  const query = request.uri.indexOf('?');
  const path = query === -1 ? request.uri : request.uri.slice(0, query);
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path; // one trailing slash
  if (!path.startsWith('/') || AMBIGUOUS.test(trimmed)) {
    return { kind: 'refused', code: 'gateway_request_invalid', message: 'the original path is one that servers could read differently (empty, . or .. segments, encoded slashes or dots)' };
  }
  const segments = trimmed.split('/');
  segments.shift();
  const method = request.method;
  if (firstMatch(policy.public, method, segments)) return { kind: 'public' };
  const rule = firstMatch(policy.rules, method, segments);
  if (!rule) return { kind: 'refused', code: 'gateway_no_rule', message: `no gateway rule allows ${asked(method, path)}` };
  const tenant = tenantOf(policy.tenant, segments, request);
  if (tenant !== undefined && !isTenantName(tenant)) {
    return { kind: 'refused', code: 'invalid_tenant_name', message: 'invalid tenant name' };
  }
  if (tenant === undefined && rule.need !== 'authenticated') {
    return { kind: 'refused', code: 'gateway_no_rule', message: `${asked(method, path)} names no tenant, and rule "${rule.text}" needs one` };
  }
  return { kind: 'protected', need: rule.need, tenant, rule: rule.text };
}

/** The request's own text in a message, bounded: the message also travels in a response header. */
function asked(method: string, path: string): string {
  return `${method.slice(0, 20)} ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`;
}

function firstMatch<Rule extends PathRule>(rules: readonly Rule[], method: string, segments: readonly string[]): Rule | undefined {
  for (const rule of rules) if (matches(rule, method, segments)) return rule;
  return undefined;
}

function matches(rule: PathRule, method: string, segments: readonly string[]): boolean {
  if (rule.methods && !rule.methods.has(method)) return false;
  for (let i = 0; i < rule.segments.length; i++) {
    const want = rule.segments[i]!;
    if (want === '**') return true;
    const got = segments[i];
    if (got === undefined || (want === '*' ? got === '' : want !== got)) return false;
  }
  return segments.length === rule.segments.length;
}

function tenantOf(source: TenantSource, segments: readonly string[], request: OriginalRequest): string | undefined {
  switch (source.from) {
    case 'path': {
      const at = source.segments.length - 1; // the {tenant} placeholder is the pattern's last segment
      if (segments.length <= at) return undefined;
      for (let i = 0; i < at; i++) if (segments[i] !== source.segments[i]) return undefined;
      return segments[at];
    }
    case 'host': {
      const host = request.host?.toLowerCase().replace(/:\d+$/, '');
      if (!host?.startsWith(source.prefix) || !host.endsWith(source.suffix)) return undefined;
      return host.slice(source.prefix.length, host.length - source.suffix.length);
    }
    case 'header': {
      const value = request.headers[source.name];
      return (typeof value === 'string' ? value : value?.[0])?.trim();
    }
  }
}
