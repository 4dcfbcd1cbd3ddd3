// API key vs the identity provider's access token on the same authenticated route (GET
// /api/v1/tenants/bench: the same body for both), with a bare Fastify route of that body size for scale.
// Kupe runs as in bench/whoami.ts, with KUPE_OIDC_ISSUER pointing at a real OpenID provider (npm's
// oidc-provider, test/oidc/provider.ts) in this driver process; the token is one it issued. The provider's
// JWKS requests are counted across the load: verification of a known key must make none.
//
//   node --import tsx bench/token.ts [--duration 6] [--connections 50] [--rounds 3]
import { parseArgs } from 'node:util';
import { startTestProvider } from '../test/oidc/provider.ts';
import { load, median, type Result, start, wrk } from './load.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
  },
});
const [duration, connections, rounds] = [Number(values.duration), Number(values.connections), Number(values.rounds)];

const provider = await startTestProvider({ users: { ada: { email: 'ada@example.com', email_verified: true, groups: ['bench-readonly'] } } });
const kupe = await start('bench/server.ts', { KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_AUDIENCE: provider.audience });
const token = await provider.issueAccessToken('ada');
const route = `${kupe.info.url}/api/v1/tenants/bench`;
const withKey = { authorization: `Bearer ${kupe.info.key!}` };
const withToken = { authorization: `Bearer ${token}` };
const bodies = await Promise.all([withKey, withToken].map(async (headers) => {
  const res = await fetch(route, { headers });
  if (res.status !== 200) throw new Error(`setup: ${res.status} ${await res.text()}`);
  return res.text();
}));
const bare = await start('bench/bare.ts', { BENCH_BODY_BYTES: String(bodies[0]!.length) });
const targets = [
  { name: 'bare Fastify GET /bare', url: `${bare.info.url}/bare`, headers: {} },
  { name: 'GET tenant, API key', url: route, headers: withKey },
  { name: 'GET tenant, access token', url: route, headers: withToken },
];
console.log(`${wrk ? 'wrk -t1' : 'autocannon (no wrk installed)'}; ${connections} connections; ${rounds} rounds x ${duration} s per route, alternating; ` +
  `RS256 token of ${token.length} bytes; body ${bodies[0]!.length} bytes`);
for (const target of targets) load(target.url, target.headers, 2, connections); // warm-up
const fetchesBefore = provider.jwksFetches;
const results = targets.map(() => [] as Result[]);
for (let round = 0; round < rounds; round++) {
  targets.forEach((target, i) => results[i]!.push(load(target.url, target.headers, duration, connections)));
}
const fetchesDuring = provider.jwksFetches - fetchesBefore;
kupe.child.kill();
bare.child.kill();
await provider.close();

console.log('route                            req/s (median)   p99 ms (median)   errors');
const summaries = results.map((rs) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors, 0) }));
targets.forEach((target, i) => {
  const s = summaries[i]!;
  console.log(`${target.name.padEnd(32)} ${s.rps.toFixed(0).padStart(14)}   ${s.p99.toFixed(2).padStart(15)}   ${s.errors}`);
});
console.log(`ratio access token / API key: ${(summaries[2]!.rps / summaries[1]!.rps).toFixed(2)}; ` +
  `API key / bare: ${(summaries[1]!.rps / summaries[0]!.rps).toFixed(2)}; token / bare: ${(summaries[2]!.rps / summaries[0]!.rps).toFixed(2)}`);
console.log(`provider JWKS requests during the load: ${fetchesDuring}`);
