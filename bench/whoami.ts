// Authenticated GET /api/v1/whoami on Kupe against a bare Fastify route (bench/bare.ts) answering a body of
// the same size, each server in a process of its own, driven by wrk (Debian's package) in a process of its
// own: the figure measures the servers, not the load generator. Without wrk, autocannon's CLI runs in a
// separate process instead (it saturates sooner: compare ratios only within one run). Rounds alternate
// between the routes, so drift on a shared machine hits all alike. Kupe's own unauthenticated route is
// measured too: bare vs Kupe public is what every Kupe route pays, Kupe public vs whoami is authentication.
// The gateway verification route (an empty 200) is measured against a bare route answering the same. With
// Debian's nginx installed, three more: nginx proxying to an upstream (bare Fastify's empty 200) without
// verification, with the documented auth_request to Kupe, and with auth_request to a verifier that does no
// work (bare Fastify's empty 200 again): nginx's own ceiling on this machine (bench/nginx.ts).
//
//   npm run bench -- [--duration 6] [--connections 50] [--rounds 3]
//   KUPE_DATABASE_URL=postgres://... npm run bench      # on PostgreSQL (a schema of its own)
//   KUPE_BENCH_SERVER_FLAGS='--max-semi-space-size=1'   # Node/V8 flags for both server processes
import { parseArgs } from 'node:util';
import { load as loadWith, median, nginxAsks, type Result, serverFlags, start, wrk } from './load.ts';
import { nginxInstalled, startNginx } from './nginx.ts';

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
const load = (url: string, headers: Record<string, string>, seconds: number) => loadWith(url, headers, seconds, connections);

const kupe = await start('bench/server.ts', {});
const auth = { authorization: `Bearer ${kupe.info.key!}` };
const whoami = await fetch(`${kupe.info.url}/api/v1/whoami`, { headers: auth });
const whoamiBody = await whoami.text();
if (whoami.status !== 200) throw new Error(`setup: whoami answered ${whoami.status}`);
const bare = await start('bench/bare.ts', { BENCH_BODY_BYTES: String(whoamiBody.length) });
// What nginx sends for a client's GET (docs/gateway.md): the original request in headers.
const asked = { ...auth, ...nginxAsks('bench') };
const targets = [
  { name: 'bare Fastify GET /bare', url: `${bare.info.url}/bare`, headers: {}, bytes: whoamiBody.length },
  { name: 'Kupe GET /bench/public', url: `${kupe.info.url}/bench/public`, headers: {}, bytes: whoamiBody.length },
  { name: 'Kupe GET /api/v1/whoami (key)', url: `${kupe.info.url}/api/v1/whoami`, headers: auth, bytes: whoamiBody.length },
  { name: 'bare Fastify empty 200', url: `${bare.info.url}/bare/empty`, headers: {}, bytes: 0 },
  { name: 'Kupe gateway verify (key)', url: `${kupe.info.url}/api/v1/gateway/verify`, headers: asked, bytes: 0 },
];
// On PostgreSQL, two more instances on the same schema: each one's verification is measured too.
const others = process.env.KUPE_DATABASE_URL?.startsWith('postgres')
  ? await Promise.all([2, 3].map(() => start('bench/server.ts', { BENCH_JOIN: JSON.stringify({ database: kupe.info.database, key: kupe.info.key }) })))
  : [];
others.forEach((other, i) => targets.push(
  { name: `Kupe gateway verify (instance ${i + 2})`, url: `${other.info.url}/api/v1/gateway/verify`, headers: asked, bytes: 0 }));
const port = (url: string | undefined) => Number(new URL(url!).port);
const nginx = nginxInstalled ? await startNginx({ kupe: port(kupe.info.url), noop: port(bare.info.url), upstream: port(bare.info.url) }) : undefined;
if (nginx) {
  const through = '/api/v1/tenants/bench/clusters';
  targets.push(
    { name: 'nginx -> upstream', url: `${nginx.plain}${through}`, headers: auth, bytes: 0 },
    { name: 'nginx -> Kupe verify -> upstream', url: `${nginx.kupe}${through}`, headers: auth, bytes: 0 },
    { name: 'nginx -> no-op verify -> upstream', url: `${nginx.noop}${through}`, headers: auth, bytes: 0 },
  );
}
for (const target of targets) {
  const res = await fetch(target.url, { headers: target.headers });
  const body = await res.text();
  if (res.status !== 200 || body.length !== target.bytes) throw new Error(`setup: ${target.name} answers ${res.status} with ${body.length} bytes, not ${target.bytes}`);
}
console.log(`${process.env.KUPE_DATABASE_URL?.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}; log level ${process.env.KUPE_LOG_LEVEL ?? 'warn'}; ` +
  `${wrk ? 'wrk -t1' : 'autocannon (no wrk installed)'}; ${connections} connections; ${rounds} rounds x ${duration} s per route, alternating; ` +
  `body ${whoamiBody.length} bytes for whoami and its comparisons, empty for the verification and its${serverFlags.length ? `; server flags ${serverFlags.join(' ')}` : ''}`);

for (const target of targets) load(target.url, target.headers, 2); // warm-up: JIT, page cache
const results = targets.map(() => [] as Result[]);
for (let round = 0; round < rounds; round++) {
  targets.forEach((target, i) => results[i]!.push(load(target.url, target.headers, duration)));
}
for (const other of others) other.child.kill();
kupe.child.kill();
bare.child.kill();
await nginx?.stop();

const summaries = results.map((rs) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) }));
console.log(`${'route'.padEnd(36)} req/s (median)   p99 ms (median)   errors`);
targets.forEach((target, i) => {
  const s = summaries[i]!;
  console.log(`${target.name.padEnd(36)} ${s.rps.toFixed(0).padStart(14)}   ${s.p99.toFixed(2).padStart(15)}   ${s.errors}`);
});
// A ratio two ways: of the medians, and the median of each round's own ratio (a shared machine drifts over a
// run; within one round, the two routes were measured seconds apart).
const ratio = (a: number, b: number, digits = 2) => {
  const perRound = median(results[a]!.map((r, round) => r.rps / results[b]![round]!.rps));
  return `${(summaries[a]!.rps / summaries[b]!.rps).toFixed(digits)} (per round ${perRound.toFixed(digits)})`;
};
console.log(`ratio whoami / bare Fastify: ${ratio(2, 0)}   (Kupe public / bare: ${ratio(1, 0)})`);
console.log(`ratio gateway verify / bare Fastify empty 200: ${ratio(4, 3)}`);
others.forEach((_, i) => console.log(`ratio gateway verify (instance ${i + 2}) / bare Fastify empty 200: ${ratio(5 + i, 3)}`));
if (nginx) {
  const at = 5 + others.length;
  console.log(`ratio through nginx, Kupe verifying / no verification: ${ratio(at + 1, at, 3)}   (a verifier doing nothing: ${ratio(at + 2, at, 3)})`);
} else {
  console.log('nginx rounds skipped: no /usr/sbin/nginx (apt-get install nginx)');
}
console.log(`per round (bare / public / whoami): ${results[0]!.map((r, i) => `${r.rps.toFixed(0)}/${results[1]![i]!.rps.toFixed(0)}/${results[2]![i]!.rps.toFixed(0)}`).join('  ')}`);
