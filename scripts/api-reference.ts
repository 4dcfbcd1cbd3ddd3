import { STATUS_CODES } from 'node:http';

/** The parts of an OpenAPI 3.1 document this renderer reads. */
interface Schema {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  description?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
}
interface Parameter { name: string; in: string; required?: boolean; description?: string; schema?: Schema }
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, unknown>;
}
export interface OpenApiDocument { paths?: Record<string, Record<string, Operation>>; webhooks?: Record<string, { post?: Operation }> }

const METHODS = ['get', 'post', 'patch', 'put', 'delete'];
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(schema: Schema | undefined): string {
  if (!schema) return 'any';
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' \\| ');
  if (schema.type === 'array') return `array of ${typeOf(schema.items)}`;
  return schema.type ?? 'any';
}

/** The rule of a field in words: its description, bounds, default; a pattern only when it is short enough to read. */
function ruleOf(schema: Schema | undefined, description?: string): string {
  if (!schema) return description ?? '';
  const parts = [description ?? schema.description];
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`${schema.minimum ?? ''}-${schema.maximum ?? ''}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.pattern && schema.pattern.length <= 40 && schema.pattern !== '^[^\\u0000]*$') parts.push(`\`${schema.pattern}\``);
  return cell(parts.filter(Boolean).join('; '));
}

function renderOperation(method: string, path: string, op: Operation): string[] {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, ''];
  if (op.summary) lines.push(`**${op.summary}.** ${op.description ?? ''}`.trim(), '');
  lines.push(op.security?.length ? 'Takes `Authorization: Bearer <api key or access token>` (or the console session).' : 'Needs no API key.', '');
  const parameters = op.parameters ?? [];
  if (parameters.length > 0) {
    lines.push('| Parameter | In | Required | Type | Rule |', '|---|---|---|---|---|');
    for (const p of parameters) {
      lines.push(`| \`${p.name}\` | ${p.in} | ${p.required ? 'yes' : 'no'} | ${typeOf(p.schema)} | ${ruleOf(p.schema, p.description)} |`);
    }
    lines.push('');
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body?.properties) {
    lines.push('| Body field | Required | Type | Rule |', '|---|---|---|---|');
    for (const [name, field] of Object.entries(body.properties)) {
      lines.push(`| \`${name}\` | ${body.required?.includes(name) ? 'yes' : 'no'} | ${typeOf(field)} | ${ruleOf(field)} |`);
    }
    lines.push('', 'Unknown body fields are refused (400 `unknown_field`).', '');
  }
  const statuses = Object.keys(op.responses ?? {}).sort();
  lines.push(`Answers: ${statuses.map((status) => `${status} ${STATUS_CODES[status] ?? ''}`.trim()).join(', ')}.`, '');
  return lines;
}

/** The events webhook receivers get (the document's `webhooks`): each one's `data` fields. */
function renderWebhooks(webhooks: Record<string, { post?: Operation }>): string[] {
  const entries = Object.entries(webhooks);
  if (entries.length === 0) return [];
  const lines = ['## webhook events', '', 'What a webhook endpoint receives: `{"type", "timestamp", "data"}`, signed per Standard Webhooks',
    '([notifications.md](notifications.md)). `data` always holds `tenant`, and:', ''];
  for (const [type, item] of entries) {
    const data = item.post?.requestBody?.content?.['application/json']?.schema?.properties?.data;
    lines.push(`### \`${type}\``, '', '| Field | Required | Type | Rule |', '|---|---|---|---|');
    for (const [name, field] of Object.entries(data?.properties ?? {})) {
      if (name === 'tenant') continue;
      lines.push(`| \`${name}\` | ${data?.required?.includes(name) ? 'yes' : 'no'} | ${typeOf(field)} | ${ruleOf(field)} |`);
    }
    lines.push('');
  }
  return lines;
}

/**
 * docs/api.md, from the OpenAPI document the server serves: every route with
 * its parameters, body, statuses and the error codes each status can carry.
 */
export function renderApiReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), ...renderOperation(method, path, op)]);
    }
  }
  return [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs:api` from the OpenAPI document the server serves (/api/v1/openapi.json);',
    'test/docs.test.ts fails when this file and the document differ. Edit the route schemas, not this file. -->',
    '',
    'Base path `/api/v1`. Tenant routes take `Authorization: Bearer <api key>`, an access token from the identity',
    'provider when one is configured ([oidc.md](oidc.md)), or the console\'s session cookie with its CSRF header.',
    'Every error is `{"error", "code", "requestId"}` with `X-Request-Id`; every code and its',
    'meaning: [errors.md](errors.md). Any route also answers 400 `malformed_request` or `unknown_field`, 405',
    '`method_not_allowed`, 413, 415, 429 `rate_limited` and 503 `store_unavailable` where they apply. Choices the',
    'contract leaves open: [behaviour.md](behaviour.md).',
    '',
    ...[...byTag].flatMap(([tag, lines]) => [`## ${tag}`, '', ...lines]),
    ...renderWebhooks(doc.webhooks ?? {}),
  ].join('\n');
}

/**
 * The settings docs/api.md is generated with: sign-in through an identity provider on, so that its routes
 * (there only when KUPE_OIDC_ISSUER and KUPE_OIDC_CLIENT_ID are set) are documented too.
 */
export const REFERENCE_ENV = Object.freeze({
  KUPE_OIDC_ISSUER: 'https://sso.example.com/application/o/kupe/', KUPE_OIDC_CLIENT_ID: 'kupe-console',
});
