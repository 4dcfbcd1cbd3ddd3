import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const BIN = join(import.meta.dirname, '../bin/kupe-server.js');

export interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  /** stdout (the JSON log), line by line. */
  log: string[];
  /** stderr, as it came (the first-start banner goes there). */
  stderr: string[];
  exited: Promise<number | null>;
}

/** The instance's log lines that match, once at least one has arrived (the log is written asynchronously). */
export async function logLines(instance: Instance, match: (line: string) => boolean): Promise<string[]> {
  for (let i = 0; i < 100 && !instance.log.some(match); i++) await new Promise((r) => setTimeout(r, 20));
  return instance.log.filter(match);
}

/** Resolves once the instance has decided about the first-start demo tenant (it logs either way). */
export async function bootstrapDecided(instance: Instance): Promise<void> {
  const decided = () => instance.log.some((line) => line.includes('first start: created the demo tenant') || line.includes('no demo tenant created'));
  for (let i = 0; i < 100 && !decided(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!decided()) throw new Error(`${instance.name} never said whether it created the demo tenant`);
}

/** Starts one `kupe-server serve` process on a free loopback port; killed after the test. */
export function startInstance(t: TestContext, name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, KUPE_PORT: '0', KUPE_LOG_LEVEL: 'info', KUPE_SHUTDOWN_DELAY_SECONDS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => { child.kill('SIGKILL'); });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        const m = /Server listening at (https?:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) resolve({ name, url: m[1]!, child, log, stderr, exited });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before listening:\n${[...log, ...stderr].join('\n')}`)));
  });
}

let ipCounter = 0;
/** A client address of its own (sent as X-Forwarded-For; the instances trust loopback proxies). */
export function freshIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export interface Answer { status: number; body: Record<string, any>; startedAt: number; finishedAt: number }

export async function request(
  base: string, method: string, path: string, options: { key?: string; body?: unknown; ip?: string } = {},
): Promise<Answer> {
  const startedAt = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-forwarded-for': options.ip ?? freshIp(),
      ...(options.key && { authorization: `Bearer ${options.key}` }),
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) as Record<string, any> : {}, startedAt, finishedAt: performance.now() };
}
