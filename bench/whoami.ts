// Authenticated GET /api/v1/whoami on Kupe against a bare Fastify route (bench/bare.ts) answering a body of
// the same size, each server in a process of its own, driven by wrk (Debian's package) in a process of its
// own: the figure measures the servers, not the load generator. Without wrk, autocannon's CLI runs in a
// separate process instead (it saturates sooner: compare ratios only within one run). Rounds alternate
// between the routes, so drift on a shared machine hits all alike. Kupe's own unauthenticated route is
// measured too: bare vs Kupe public is what every Kupe route pays, Kupe public vs whoami is authentication.
//
//   npm run bench -- [--duration 6] [--connections 50] [--rounds 3]
//   KUPE_DATABASE_URL=postgres://... npm run bench      # on PostgreSQL (a schema of its own)
//   KUPE_BENCH_SERVER_FLAGS='--max-semi-space-size=1'   # Node/V8 flags for both server processes
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const serverFlags = (process.env.KUPE_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
const wrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined; // wrk --version exits 1, but it ran
  }
})();

/** Starts a server script and resolves with the first JSON line it prints; its other output is drained. */
function start(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; info: Record<string, string> }> {
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

interface Result { rps: number; p99: number; errors: number }

/** One run of the load generator against url, in its own process. */
function load(url: string, headers: Record<string, string>, seconds: number): Result {
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

const kupe = await start('bench/server.ts', {});
const auth = { authorization: `Bearer ${kupe.info.key!}` };
const whoami = await fetch(`${kupe.info.url}/api/v1/whoami`, { headers: auth });
const whoamiBody = await whoami.text();
if (whoami.status !== 200) throw new Error(`setup: whoami answered ${whoami.status}`);
const bare = await start('bench/bare.ts', { BENCH_BODY_BYTES: String(whoamiBody.length) });
const targets = [
  { name: 'bare Fastify GET /bare', url: `${bare.info.url}/bare`, headers: {} },
  { name: 'Kupe GET /bench/public', url: `${kupe.info.url}/bench/public`, headers: {} },
  { name: 'Kupe GET /api/v1/whoami (key)', url: `${kupe.info.url}/api/v1/whoami`, headers: auth },
];
for (const target of targets) {
  const body = await (await fetch(target.url, { headers: target.headers })).text();
  if (body.length !== whoamiBody.length) throw new Error(`setup: ${target.name} answers ${body.length} bytes, whoami ${whoamiBody.length}`);
}
console.log(`${process.env.KUPE_DATABASE_URL?.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}; log level ${process.env.KUPE_LOG_LEVEL ?? 'warn'}; ` +
  `${wrk ? 'wrk -t1' : 'autocannon (no wrk installed)'}; ${connections} connections; ${rounds} rounds x ${duration} s per route, alternating; ` +
  `body ${whoamiBody.length} bytes everywhere${serverFlags.length ? `; server flags ${serverFlags.join(' ')}` : ''}`);

for (const target of targets) load(target.url, target.headers, 2); // warm-up: JIT, page cache
const results = targets.map(() => [] as Result[]);
for (let round = 0; round < rounds; round++) {
  targets.forEach((target, i) => results[i]!.push(load(target.url, target.headers, duration)));
}
kupe.child.kill();
bare.child.kill();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summaries = results.map((rs) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) }));
console.log('route                            req/s (median)   p99 ms (median)   errors');
targets.forEach((target, i) => {
  const s = summaries[i]!;
  console.log(`${target.name.padEnd(32)} ${s.rps.toFixed(0).padStart(14)}   ${s.p99.toFixed(2).padStart(15)}   ${s.errors}`);
});
const [bareS, publicS, whoamiS] = summaries as [typeof summaries[0], typeof summaries[0], typeof summaries[0]];
console.log(`ratio whoami / bare Fastify: ${(whoamiS.rps / bareS.rps).toFixed(2)}   (Kupe public / bare: ${(publicS.rps / bareS.rps).toFixed(2)})`);
console.log(`per round (bare / public / whoami): ${results[0]!.map((r, i) => `${r.rps.toFixed(0)}/${results[1]![i]!.rps.toFixed(0)}/${results[2]![i]!.rps.toFixed(0)}`).join('  ')}`);
