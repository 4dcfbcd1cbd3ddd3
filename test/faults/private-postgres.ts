import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const ROOT = '/usr/lib/postgresql';
const version = existsSync(ROOT) ? readdirSync(ROOT).sort((a, b) => Number(a) - Number(b)).at(-1) : undefined;
const bin = (name: string) => join(ROOT, version ?? '', 'bin', name);

/** Why the private-cluster tests cannot run here, or false when they can. */
export const privatePostgresUnavailable: string | false =
  version === undefined ? "needs Debian's PostgreSQL server (scripts/services.sh installs it)"
    : process.getuid?.() !== 0 ? 'runs PostgreSQL as the postgres user, which needs root (CI runs as root)'
      : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PrivatePostgres {
  /** postgres://kupe:kupe@127.0.0.1:PORT/kupe */
  url: string;
  /** As an operator's restart would: fast shutdown (connections are terminated). */
  stop(): void;
  start(): void;
  /** SIGSTOP to the postmaster and every backend: the server is there but answers nothing. */
  freeze(): void;
  thaw(): void;
  /** pg_terminate_backend for every connection of the kupe role. */
  terminateAll(): number;
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary folder, its
 * own port), so that stopping or freezing it touches no other test. Removed
 * after the test.
 */
export function startPrivatePostgres(t: TestContext): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-pg-'));
  chownSync(dir, ...postgresIds());
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', bin(command), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  return freePort().then((port) => {
    asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    const start = () => { asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']); };
    const stop = () => { asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']); };
    const psql = (sql: string) => asPostgres('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-Atqc', sql]);
    start();
    psql("create role kupe login superuser password 'kupe'");
    psql('create database kupe owner kupe');

    const processes = () => {
      const postmaster = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]!;
      const children = execFileSync('pgrep', ['-P', postmaster]).toString().split('\n').filter(Boolean);
      return [postmaster, ...children].map(Number);
    };
    let frozen: number[] = [];
    const thaw = () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    };
    t.after(() => {
      thaw();
      try { asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    });
    return {
      url: `postgres://kupe:kupe@127.0.0.1:${port}/kupe`,
      stop, start, thaw,
      freeze: () => {
        frozen = processes();
        for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      },
      terminateAll: () => Number(psql("select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = 'kupe'")),
    };
  });
}

function postgresIds(): [number, number] {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  return [uid, gid];
}
