import { chmodSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { AppError, type ErrorCode } from './domain/errors.ts';
import type { LeakFinding, LeakReport } from './domain/leaks.ts';

/**
 * The operator's way into a running server on SQLite (docs/leaks.md, "Leaks found elsewhere"). There the
 * key cache lives in the one server process (src/store/fast-paths.ts): a revocation written into the file
 * by another process would not evict a cached key. So the operator CLI hands leaked tokens, keys to revoke
 * and tenants to disable to the running server, which does it through the same path as the API would, over a Unix socket beside the database
 * (`<file>.control`, mode 0600 in the database's 0700 folder: whoever may open it may already read and write
 * the database). On PostgreSQL the CLI revokes itself: the revocation fence reaches every instance.
 */

/** What the control socket does, as the domain does it (src/domain/leaks.ts, src/domain/api-keys.ts). */
export interface ControlHandlers {
  /** `apikeys revoke-leaked`: the leaked tokens reported. */
  revokeLeaked(reports: LeakReport[]): Promise<LeakFinding[]>;
  /** `apikeys revoke`: one key of a tenant, by id; an AppError (not found...) is answered with its code. */
  revoke(tenant: string, id: string): Promise<void>;
  /** `tenants disable|enable`: whether it changed (false: it already was so). */
  setTenantDisabled(tenant: string, disabled: boolean): Promise<{ changed: boolean }>;
}

/** Each route of the socket: what it reads from the JSON body (a thrown Error is a 400), and what it does. */
const ROUTES = new Map<string, (body: unknown, handlers: ControlHandlers) => Promise<unknown>>(Object.entries({
  '/revoke-leaked': (body, handlers) => {
    const reports = parseReports(body);
    return handlers.revokeLeaked(reports).then((findings) => ({ findings }));
  },
  '/revoke': (body, handlers) => {
    const { tenant, id } = (body ?? {}) as { tenant?: unknown; id?: unknown };
    if (typeof tenant !== 'string' || typeof id !== 'string') throw new Error('"tenant" and "id" must be strings');
    return handlers.revoke(tenant, id).then(() => ({ revoked: id }));
  },
  '/tenant-state': (body, handlers) => {
    const { tenant, disabled } = (body ?? {}) as { tenant?: unknown; disabled?: unknown };
    if (typeof tenant !== 'string' || typeof disabled !== 'boolean') throw new Error('"tenant" must be a string and "disabled" a boolean');
    return handlers.setTenantDisabled(tenant, disabled);
  },
}));

/** Unix socket paths are limited to about 107 bytes; a longer one cannot be listened on. */
const MAX_SOCKET_PATH = 100;
/** What one request may carry (the CLI sends tokens in batches of CONTROL_BATCH). */
const MAX_BODY_BYTES = 1024 * 1024;
export const CONTROL_BATCH = 1000;

/** The control socket of a SQLite database URL; undefined for PostgreSQL and in-memory SQLite. */
export function controlSocketPath(databaseUrl: string): string | undefined {
  if (!databaseUrl.startsWith('sqlite:')) return undefined;
  const file = databaseUrl.slice('sqlite:'.length);
  return file === ':memory:' ? undefined : `${file}.control`;
}

/**
 * Listens on the socket (a stale one, left by a killed server, is removed first: the caller holds the serve
 * lock, so no other server uses it). Returns its close, or why it could not listen (the server then runs
 * without one and logs it).
 */
export async function serveControl(path: string, handlers: ControlHandlers): Promise<{ close: () => Promise<void> } | { problem: string }> {
  if (path.length > MAX_SOCKET_PATH) return { problem: `${path} is longer than ${MAX_SOCKET_PATH} characters, too long for a Unix socket` };
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const route = req.method === 'POST' ? ROUTES.get(req.url ?? '') : undefined;
    if (!route) {
      answer(404, { error: `the control socket answers POST ${[...ROUTES.keys()].join(', ')} only` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        answer(413, { error: `at most ${MAX_BODY_BYTES} bytes a request` });
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      let done: Promise<unknown>;
      try {
        done = route(JSON.parse(Buffer.concat(chunks).toString('utf8')), handlers);
      } catch (error) {
        answer(400, { error: (error as Error).message });
        return;
      }
      done.then((result) => answer(200, result), (error: unknown) => error instanceof AppError
        ? answer(422, { code: error.code, error: error.message })
        : answer(500, { error: (error as Error).message }));
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
  } catch (error) {
    // The socket is the CLI's convenience, not the server's: a folder that takes no socket does not stop it.
    server.close();
    return { problem: `cannot listen on ${path}: ${(error as Error).message}` };
  }
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function parseReports(body: unknown): LeakReport[] {
  const { tokens, source } = (body ?? {}) as { tokens?: unknown; source?: unknown };
  if (!Array.isArray(tokens) || tokens.length > CONTROL_BATCH || !tokens.every((t) => typeof t === 'string')) {
    throw new Error(`"tokens" must be a list of at most ${CONTROL_BATCH} strings`);
  }
  if (source !== undefined && typeof source !== 'string') throw new Error('"source" must be a string');
  return tokens.map((token: string) => ({ token, source }));
}

/** The CLI's side: one request to the running server; its JSON answer, or a rejection with its words. */
function ask<T>(path: string, route: string, body: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: path, method: 'POST', path: route, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        let answer: T & { code?: ErrorCode; error?: string };
        try {
          answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { code?: ErrorCode; error?: string };
        } catch {
          reject(new Error(`the running server answered HTTP ${res.statusCode} without JSON`));
          return;
        }
        if (res.statusCode === 200) resolve(answer);
        // The domain's refusal (a key not found...) is the CLI's too, with its exit code.
        else if (answer.code !== undefined) reject(new AppError(answer.code, answer.error ?? answer.code));
        else reject(new Error(`the running server refused: ${answer.error ?? `HTTP ${res.statusCode}`}`));
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Sends one batch of leaked tokens to the running server. */
export async function askToRevokeLeaked(path: string, tokens: string[], source: string | undefined): Promise<LeakFinding[]> {
  return (await ask<{ findings: LeakFinding[] }>(path, '/revoke-leaked', { tokens, source })).findings;
}

/** Asks the running server to revoke one key. */
export async function askToRevoke(path: string, tenant: string, id: string): Promise<void> {
  await ask(path, '/revoke', { tenant, id });
}

/** Asks the running server to disable or enable a tenant. */
export function askToSetTenantDisabled(path: string, tenant: string, disabled: boolean): Promise<{ changed: boolean }> {
  return ask<{ changed: boolean }>(path, '/tenant-state', { tenant, disabled });
}
