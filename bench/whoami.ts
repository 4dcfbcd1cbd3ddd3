// Authenticated GET /api/v1/whoami against an unauthenticated route of the
// same server with a body of the same size. The server runs in its own
// process; autocannon drives it from this one. Rounds alternate between the
// two routes so that drift on a shared machine hits both alike.
//
//   npm run bench -- [--duration 10] [--connections 20] [--rounds 3]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

// KUPE_BENCH_SERVER_FLAGS: Node/V8 flags for the server process only (e.g. --max-semi-space-size=1).
const serverFlags = (process.env.KUPE_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...serverFlags, '--import', 'tsx', 'bench/server.ts'], {
  env: { ...process.env, KUPE_LOG_LEVEL: process.env.KUPE_LOG_LEVEL ?? 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
// The server's stdout carries its log lines and one handshake line {url, key}; read until the handshake,
// then keep draining so the server's writes never block.
const lines = createInterface({ input: server.stdout });
const { url, key } = await new Promise<{ url: string; key: string }>((resolve, reject) => {
  lines.on('line', (line) => {
    const parsed = JSON.parse(line) as { url?: string; key?: string };
    if (parsed.url && parsed.key) resolve({ url: parsed.url, key: parsed.key });
  });
  server.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

interface Result { rps: number; p99: number; bytes: number; errors: number }

async function measure(path: string, headers: Record<string, string>, seconds: number): Promise<Result> {
  const r = await autocannon({ url: `${url}${path}`, headers, connections, duration: seconds });
  const non2xx = r.non2xx + r.errors + r.timeouts;
  return { rps: r.requests.average, p99: r.latency.p99, bytes: r.throughput.average / r.requests.average, errors: non2xx };
}

const auth = { authorization: `Bearer ${key}` };
const check = await fetch(`${url}/api/v1/whoami`, { headers: auth });
const base = await fetch(`${url}/bench/public`);
const [authBody, baseBody] = [await check.text(), await base.text()];
if (check.status !== 200 || authBody.length !== baseBody.length) {
  throw new Error(`setup: whoami ${check.status} ${authBody.length} bytes vs public ${baseBody.length} bytes`);
}
console.log(`server ${url}; ${process.env.KUPE_DATABASE_URL?.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}; log level ${process.env.KUPE_LOG_LEVEL ?? 'warn'}; body ${authBody.length} bytes on both routes; ${connections} connections, ${rounds} x ${duration}s per route`);

await measure('/api/v1/whoami', auth, 2); // warm-up: JIT, SQLite page cache
await measure('/bench/public', {}, 2);
const runs: { public: Result[]; whoami: Result[] } = { public: [], whoami: [] };
for (let i = 0; i < rounds; i++) {
  runs.public.push(await measure('/bench/public', {}, duration));
  runs.whoami.push(await measure('/api/v1/whoami', auth, duration));
}
server.kill();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (rs: Result[]) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) });
const pub = summary(runs.public);
const who = summary(runs.whoami);
console.log('route                     req/s (median)   p99 ms   non-2xx');
console.log(`GET /bench/public (none)  ${pub.rps.toFixed(0).padStart(14)}   ${String(pub.p99).padStart(6)}   ${pub.errors}`);
console.log(`GET /api/v1/whoami (key)  ${who.rps.toFixed(0).padStart(14)}   ${String(who.p99).padStart(6)}   ${who.errors}`);
console.log(`ratio authenticated / unauthenticated: ${(who.rps / pub.rps).toFixed(2)}`);
console.log(`per round (public, whoami): ${runs.public.map((r, i) => `${r.rps.toFixed(0)}/${runs.whoami[i]!.rps.toFixed(0)}`).join('  ')}`);
