import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { AppError, type ErrorCode } from '../../domain/errors.ts';
import { LEAK_REPORTERS, type LeakFinding, type LeakReport, type LeakReporter, revokeLeakedKeys } from '../../domain/leaks.ts';
import type { MailOn } from '../../domain/mail.ts';
import type { Store } from '../../domain/store.ts';
import type { Clock } from '../../domain/time.ts';
import type { ClientLimits } from '../../limits/index.ts';
import type { ScannerKeys } from '../../outbound/github-scanning-keys.ts';
import { countGuess, forgiveFailures } from '../guard/admission.ts';
import { admissionOf } from '../guard.ts';
import type { Metrics } from '../metrics.ts';
import { compileValidator } from '../schema-compiler.ts';
import { errorResponses } from '../schemas.ts';
import { type AjvError, describeValidationError } from '../validation-messages.ts';
import { type App, notSoonerThan, requestContext } from './context.ts';

/**
 * Leak reports from secret scanners (docs/leaks.md): GitHub's secret-scanning partner program and GitLab's
 * Token Revocation API, each as its sender documents it. The sender is checked by the route (GitHub's
 * signature over the raw body, GitLab's token), and a failed check counts towards the address's backoff like
 * a wrong API key. Each reported token that is a genuine Kupe key is revoked through the one revocation path
 * (src/domain/leaks.ts).
 */

/** Who may report: GitHub's signing keys (null: off) and GitLab's token (undefined: off). */
export interface Scanners {
  github: ScannerKeys | null;
  gitlabToken: string | undefined;
}

export interface LeakReportDeps {
  store: Store;
  clock: Clock;
  /** Email on: the tenant's admins are mailed of each leaked key revoked. */
  mail: MailOn | undefined;
  limits: ClientLimits;
  metrics: Metrics;
  scanners: Scanners;
}

export const GITHUB_REPORT_PATH = '/api/v1/secret-scanning/github';
export const GITLAB_PREFIX = '/api/v1/secret-scanning/gitlab';
/** The token type GitLab asks about: a secret-detection rule with id `kupe_api_key` (docs/leaks.md). */
export const GITLAB_TOKEN_TYPE = 'gitleaks_rule_id_kupe_api_key';
/** A report's body at most (GitHub batches its findings; one finding is about 250 bytes). */
export const MAX_REPORT_BYTES = 256 * 1024;
/** Tokens in one report at most. */
export const MAX_REPORTED_TOKENS = 1000;
/**
 * An accepted report is answered no sooner than this after it arrived, whatever it found: "revoked now" (a
 * write, and on PostgreSQL the wait for every instance) cannot be told by its timing from "not ours" or
 * "already revoked". Only a sender that passed the check waits; refusals answer at once.
 */
export const REPORT_ANSWER_FLOOR_MS = 250;

const tags = ['leak reports'];

const GitHubFinding = Type.Object({
  token: Type.String({ description: 'The string found' }),
  type: Type.Optional(Type.String({ description: 'The token type registered with GitHub (`kupe_api_key`)' })),
  url: Type.Optional(Type.String({ description: 'Where it was found' })),
  source: Type.Optional(Type.String({ description: 'What kind of place: `content`, `commit`, `issue_comment`, `npm`...' })),
}, { additionalProperties: true });
const GitHubFeedback = Type.Object({
  token_hash: Type.String({ description: 'SHA-256 of the reported token, hex' }),
  token_type: Type.String({ description: 'The type the report gave' }),
  label: Type.Enum(['true_positive', 'false_positive'], {
    description: '`true_positive`: a genuine Kupe key (revoked now, or revoked before); `false_positive`: anything else',
  }),
});
const GitLabFinding = Type.Object({
  type: Type.String({ maxLength: 200 }),
  token: Type.String({ maxLength: 1000 }),
  location: Type.Optional(Type.String({ maxLength: 10_000 })),
}, { additionalProperties: true });

/** The raw bodies of GitHub's reports: the signature covers these exact bytes, so they are not parsed first. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export async function leakReportRoutes(app: App, deps: LeakReportDeps) {
  // GitHub's route in a scope of its own: there the body is kept as bytes, whatever its content type.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES }, (request, body, done) => {
      rawBodies.set(request, body as Buffer);
      done(null, undefined);
    });
    // The body schema documents GitHub's format; it is checked after the signature (githubFindings).
    scope.setValidatorCompiler((route) => route.httpPart === 'body' ? () => true : compileValidator(route));
    scope.post(GITHUB_REPORT_PATH, {
      config: { access: 'scanner' },
      bodyLimit: MAX_REPORT_BYTES,
      schema: {
        summary: "Report leaked keys (GitHub's secret scanning)",
        description: "GitHub's secret-scanning partner format: a JSON array of findings, signed by GitHub (`Github-Public-Key-Identifier`, "
          + '`Github-Public-Key-Signature`: ECDSA P-256 over SHA-256 of the raw body, base64 DER) with a key from GitHub\'s key document '
          + `(KUPE_GITHUB_SCANNING_KEYS_URL). Every finding that is a genuine Kupe key not yet revoked is revoked (reason \`leaked\`). At most ${MAX_REPORTED_TOKENS} `
          + `findings and ${MAX_REPORT_BYTES / 1024} KiB. Answered no sooner than ${REPORT_ANSWER_FLOOR_MS} ms after it arrived. See docs/leaks.md.`,
        tags,
        body: GitHubReport,
        response: { 200: Type.Array(GitHubFeedback, { description: "GitHub's feedback: one label per finding, in order" }), ...errorResponses(400, 401, 404, 413, 429, 503) },
      },
    }, (request, reply) => githubReport(request, reply, deps));
  });

  app.get(`${GITLAB_PREFIX}/v1/revocable_token_types`, {
    config: { access: 'scanner' },
    schema: {
      summary: "Token types Kupe revokes (GitLab's Token Revocation API)",
      description: 'Authenticated by KUPE_GITLAB_REVOCATION_TOKEN, sent as GitLab sends it: the raw token in `Authorization`, no scheme.',
      tags,
      response: { 200: Type.Object({ types: Type.Array(Type.String(), { examples: [[GITLAB_TOKEN_TYPE]] }) }), ...errorResponses(401, 404, 429) },
    },
  }, async (request, reply) => {
    await checkGitLabToken(request, reply, deps);
    return { types: [GITLAB_TOKEN_TYPE] };
  });

  app.post(`${GITLAB_PREFIX}/v1/revoke_tokens`, {
    config: { access: 'scanner' },
    schema: {
      summary: "Revoke leaked keys (GitLab's Token Revocation API)",
      description: 'A JSON array of `{type, token, location}` from GitLab\'s secret detection; every genuine Kupe key not yet revoked is '
        + `revoked (reason \`leaked\`), whatever the type. 204 when done. Authenticated as the types route. At most ${MAX_REPORTED_TOKENS} tokens.`,
      tags,
      body: Type.Array(GitLabFinding, { maxItems: MAX_REPORTED_TOKENS }),
      response: { 204: Type.Null({ description: 'Every token was handled' }), ...errorResponses(400, 401, 404, 413, 429, 503) },
    },
  }, async (request, reply) => {
    const started = performance.now();
    await checkGitLabToken(request, reply, deps);
    const reports = request.body.map((finding) => ({ token: finding.token, source: finding.location }));
    await revokeReported(request, deps, reports, LEAK_REPORTERS.gitlab);
    await answerFloor(started);
    return reply.code(204).send(null);
  });
}

async function githubReport(request: FastifyRequest, reply: FastifyReply, deps: LeakReportDeps) {
  const started = performance.now();
  const keys = deps.scanners.github;
  if (!keys) throw new AppError('leak_reports_off', "GitHub's secret-scanning reports are off here (KUPE_GITHUB_SCANNING_KEYS_URL=off)");
  const keyId = request.headers['github-public-key-identifier'];
  const signature = request.headers['github-public-key-signature'];
  if (typeof keyId !== 'string' || keyId === '' || typeof signature !== 'string' || signature === '') {
    return refuseSender(request, reply, deps, 'scanner_signature_invalid',
      'a GitHub report is signed: Github-Public-Key-Identifier and Github-Public-Key-Signature are required');
  }
  const body = rawBodies.get(request) ?? Buffer.alloc(0);
  const check = await keys.check(body, keyId, signature);
  if (!check.ok) {
    if (check.problem === 'keys_unavailable') {
      void reply.header('retry-after', check.retryAfterSeconds);
      throw new AppError('scanner_keys_unavailable', check.message);
    }
    return refuseSender(request, reply, deps, 'scanner_signature_invalid', check.message);
  }
  await forgiveFailures(request, deps, admissionOf(request));
  const findings = githubFindings(body);
  const results = await revokeReported(request, deps, findings.map((f) => ({ token: f.token, source: f.url })), LEAK_REPORTERS.github);
  await answerFloor(started);
  return findings.map((finding, i) => ({
    token_hash: createHash('sha256').update(finding.token).digest('hex'),
    token_type: finding.type ?? '',
    label: results[i]!.outcome === 'not_ours' ? 'false_positive' : 'true_positive',
  }));
}

/** The documented body, compiled once as the API's own bodies are: checked after the signature. */
const GitHubReport = Type.Array(GitHubFinding, { maxItems: MAX_REPORTED_TOKENS });
const validGitHubReport = compileValidator({ schema: GitHubReport, method: 'POST', url: GITHUB_REPORT_PATH, httpPart: 'body' }) as
  ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** The findings of a signed body, checked as GitHub documents them (other fields are ignored). */
function githubFindings(body: Buffer): Static<typeof GitHubReport> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('invalid_json', 'the report is not JSON');
  }
  if (!validGitHubReport(parsed)) {
    const { code, message } = describeValidationError('body', validGitHubReport.errors![0]!);
    throw new AppError(code, message);
  }
  return parsed as Static<typeof GitHubReport>;
}

/** An accepted report's answer waits until REPORT_ANSWER_FLOOR_MS after it arrived. */
function answerFloor(started: number): Promise<void> {
  return notSoonerThan(started, REPORT_ANSWER_FLOOR_MS);
}

/** Revokes what is genuine; each revocation logged for the operator (never the token). */
async function revokeReported(request: FastifyRequest, deps: LeakReportDeps, reports: LeakReport[], reporter: LeakReporter): Promise<LeakFinding[]> {
  const findings = await revokeLeakedKeys(deps.store, reports, reporter, requestContext(request, deps));
  for (const finding of findings) {
    if (finding.outcome === 'revoked') request.log.warn({ keyId: finding.keyId, tenant: finding.tenant, reporter }, 'leaked api key revoked');
  }
  return findings;
}

/** GitLab's token, compared in constant time (both sides hashed, so their lengths do not show). */
async function checkGitLabToken(request: FastifyRequest, reply: FastifyReply, deps: LeakReportDeps): Promise<void> {
  const expected = deps.scanners.gitlabToken;
  if (expected === undefined) throw new AppError('leak_reports_off', "GitLab's token revocation is off here (KUPE_GITLAB_REVOCATION_TOKEN is not set)");
  const sent = request.headers.authorization ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!timingSafeEqual(digest(sent), digest(expected))) {
    await refuseSender(request, reply, deps, 'scanner_token_invalid',
      'GitLab token revocation needs KUPE_GITLAB_REVOCATION_TOKEN, sent as the whole Authorization header');
  }
  await forgiveFailures(request, deps, admissionOf(request));
}

/** A sender that failed its check: counted towards the address's backoff (429 while in it), else 401. */
async function refuseSender(request: FastifyRequest, reply: FastifyReply, deps: LeakReportDeps, code: ErrorCode, message: string): Promise<never> {
  await countGuess(request, reply, deps, admissionOf(request), deps.clock());
  throw new AppError(code, message);
}
