// What Fastify itself allows for an answer shaped like the gateway's verification, whatever Kupe does: three
// routes of one bare Fastify server (in a process of its own, bench/ceiling-server.ts), measured by wrk in
// alternating rounds like npm run bench:
//   - an empty 200 with its length;
//   - the same with the six headers Kupe's allowed verification carries (X-Request-Id, Cache-Control and the
//     four X-Kupe-*);
//   - the same with six no-op hooks (three onRequest, one of them async and computing one SHA-256 of the
//     Authorization header, one onSend, two onResponse), about what Kupe's route runs through.
//
//   node --import tsx bench/fastify-ceiling.ts [--rounds 6] [--duration 3]
import { parseArgs } from 'node:util';
import { generateApiKeyId, generateRawApiKey } from '../src/domain/key-format.ts';
import { load, median, start } from './load.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, duration: { type: 'string', default: '3' } } });
const server = await start('bench/ceiling-server.ts', {});
// A key of the right shape, made now: the server hashes the header, as Kupe hashes a key; nothing verifies it.
const auth = { authorization: `Bearer ${generateRawApiKey(generateApiKeyId())}` };
const routes = ['/empty', '/headers', '/hooked'];
for (const route of routes) load(`${server.info.url}${route}`, auth, 2, 50); // warm-up
const rps = routes.map(() => [] as number[]);
for (let round = 0; round < Number(values.rounds); round++) {
  routes.forEach((route, i) => rps[i]!.push(load(`${server.info.url}${route}`, auth, Number(values.duration), 50).rps));
}
server.child.kill();
routes.forEach((route, i) => console.log(`${route.padEnd(10)} ${median(rps[i]!).toFixed(0).padStart(8)} req/s   x${(median(rps[i]!) / median(rps[0]!)).toFixed(2)} (per round x${median(rps[i]!.map((r, round) => r / rps[0]![round]!)).toFixed(2)})`));
