// What the HTTP benchmarks share: starting a server script in a process of its own, and driving it with wrk
// (Debian's package) in a process of its own, or autocannon's CLI when wrk is missing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const serverFlags = (process.env.KUPE_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
export const wrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined; // wrk --version exits 1, but it ran
  }
})();

/** Starts a server script and resolves with the first JSON line it prints; its other output is drained. */
export function start(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, [...serverFlags, '--import', 'tsx', script], {
    env: { ...process.env, KUPE_LOG_LEVEL: process.env.KUPE_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{"url"')) resolve({ child, info: JSON.parse(line) as Record<string, string> });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export interface Result { rps: number; p99: number; errors: number }

/** One run of the load generator against url, in its own process. */
export function load(url: string, headers: Record<string, string>, seconds: number, connections: number): Result {
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  if (wrk) {
    const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headerArgs, url], { encoding: 'utf8' });
    const ms = (text: string) => {
      const m = /^([\d.]+)(us|ms|s)$/.exec(text)!;
      return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]!;
    };
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
      p99: ms(/^\s+99%\s+(\S+)/m.exec(out)![1]!),
      errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: .*timeout (\d+)/.exec(out)?.[1] ?? 0),
    };
  }
  const out = execFileSync(process.execPath, ['node_modules/autocannon/autocannon.js', '--json', '-c', String(connections), '-d', String(seconds), ...headerArgs, url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const r = JSON.parse(out) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number; timeouts: number };
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.non2xx + r.errors + r.timeouts };
}


export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What nginx sends Kupe to verify a client's GET of a tenant's path (docs/gateway.md, the default policy). */
export function nginxAsks(tenant: string): Record<string, string> {
  return { 'x-original-method': 'GET', 'x-original-uri': `/api/v1/tenants/${tenant}/clusters` };
}
