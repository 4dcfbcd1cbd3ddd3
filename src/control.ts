import { chmodSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { LeakFinding, LeakReport } from './domain/leaks.ts';

/**
 * The operator's way into a running server on SQLite (docs/leaks.md, "Leaks found elsewhere"). There the
 * key cache lives in the one server process (src/store/fast-paths.ts): a revocation written into the file
 * by another process would not evict a cached key. So the operator CLI hands leaked tokens to the running
 * server, which revokes them through the same path as an API DELETE, over a Unix socket beside the database
 * (`<file>.control`, mode 0600 in the database's 0700 folder: whoever may open it may already read and write
 * the database). On PostgreSQL the CLI revokes itself: the revocation fence reaches every instance.
 */

/** Revokes the leaked tokens reported, as the domain does (src/domain/leaks.ts). */
export type RevokeLeaked = (reports: LeakReport[]) => Promise<LeakFinding[]>;

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
export async function serveControl(path: string, revokeLeaked: RevokeLeaked): Promise<{ close: () => Promise<void> } | { problem: string }> {
  if (path.length > MAX_SOCKET_PATH) return { problem: `${path} is longer than ${MAX_SOCKET_PATH} characters, too long for a Unix socket` };
  rmSync(path, { force: true });
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || req.url !== '/revoke-leaked') {
      answer(404, { error: 'the control socket answers POST /revoke-leaked only' });
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
      let reports: LeakReport[];
      try {
        reports = parseReports(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        answer(400, { error: (error as Error).message });
        return;
      }
      revokeLeaked(reports).then((findings) => answer(200, { findings }), (error: unknown) => answer(500, { error: (error as Error).message }));
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

/** The CLI's side: sends one batch to the running server. Rejects with the server's words, or the socket's. */
export function askToRevokeLeaked(path: string, tokens: string[], source: string | undefined): Promise<LeakFinding[]> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: path, method: 'POST', path: '/revoke-leaked', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { findings?: LeakFinding[]; error?: string };
          if (res.statusCode === 200 && body.findings) resolve(body.findings);
          else reject(new Error(`the running server refused: ${body.error ?? `HTTP ${res.statusCode}`}`));
        } catch {
          reject(new Error(`the running server answered HTTP ${res.statusCode} without JSON`));
        }
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ tokens, source }));
  });
}
