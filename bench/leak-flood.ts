// What a flood of bogus GitHub secret-scanning reports from one address (10,000 a minute by default) costs:
// other tenants' gateway verification measured by wrk without the flood, during the flood, and during the
// same flood sent to another process (the key document's: it answers at once), in rounds that rotate the
// order. Each server and generator runs in a process of its own (the flood: bench/leak-flooder.ts; GitHub's
// key document: bench/key-document.ts). On a machine of two cores the flood's own process takes CPU from the
// server too; the flood sent elsewhere measures that, so Kupe's own cost is the difference between the two. The per-address rate limit is off (KUPE_RATE_LIMIT=0, as in every
// benchmark): every bogus report is read and its signature checked, the worst case; the authentication
// backoff stays on. Store writes: none may happen during the run (lastUsedAt is flushed hourly here), checked
// by the audit log and the revoked keys, and on SQLite by PRAGMA data_version.
//
//   npm run bench:leaks -- [--duration 6] [--rounds 4] [--connections 50] [--per-minute 10000]
//   KUPE_DATABASE_URL=postgres://... npm run bench:leaks
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { openStore } from '../src/store/index.ts';
import { TEST_CONFIG } from '../test/helpers.ts';
import { load, median, nginxAsks, type Result, start } from './load.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' }, rounds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' }, 'per-minute': { type: 'string', default: '10000' },
  },
});
const duration = Number(values.duration);

const document = await start('bench/key-document.ts', {});
const kupe = await start('bench/server.ts', {
  KUPE_GITHUB_SCANNING_KEYS_URL: document.info.url!, KUPE_TRUST_PROXY: 'loopback', KUPE_LAST_USED_FLUSH_SECONDS: '3600',
});
const database = kupe.info.database!;
const { store } = openStore(database, TEST_CONFIG.database);
const sqlite = database.startsWith('sqlite:') ? new SQLite(database.slice('sqlite:'.length), { readonly: true }) : undefined;
const writes = async () => ({
  audit: (await store.audit.list('bench', 1000)).length,
  revoked: (await store.apiKeys.listRevoked('bench')).length,
  dataVersion: sqlite ? Number(sqlite.pragma('data_version', { simple: true })) : undefined,
});

const target = `${kupe.info.url}/api/v1/gateway/verify`;
const headers = { authorization: `Bearer ${kupe.info.key!}`, ...nginxAsks('bench') };

interface FloodStats { sent: number; seconds: number; statuses: Record<string, number> }

/** Starts the flood against `url`; its stop resolves with what it sent and what came back. */
function flood(url: string): Promise<() => Promise<FloodStats>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/leak-flooder.ts'], {
    env: { ...process.env, FLOOD_URL: url, FLOOD_KEY_ID: document.info.keyId, FLOOD_PER_MINUTE: values['per-minute'] },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stats: ((line: FloodStats) => void) | undefined;
  const stopped = new Promise<FloodStats>((resolve) => { stats = resolve; });
  return new Promise((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as FloodStats | { flooding: number };
      if ('flooding' in parsed) {
        resolve(() => { child.kill('SIGTERM'); return stopped; });
      } else {
        stats?.(parsed);
      }
    });
  });
}

load(target, headers, 2, Number(values.connections)); // warm-up
const before = await writes();
const quiet: Result[] = [];
const flooded: Result[] = [];
const elsewhere: Result[] = [];
const floods: FloodStats[] = [];
const conditions = [
  { results: quiet, flood: undefined },
  { results: flooded, flood: kupe.info.url! },
  { results: elsewhere, flood: new URL(document.info.url!).origin },
];
for (let round = 0; round < Number(values.rounds); round++) {
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[(round + i) % conditions.length]!;
    const stop = condition.flood === undefined ? undefined : await flood(condition.flood);
    if (stop) await new Promise((r) => setTimeout(r, 500)); // the flood under way
    condition.results.push(load(target, headers, duration, Number(values.connections)));
    const stats = await stop?.();
    if (stats && condition.results === flooded) floods.push(stats);
  }
}
const after = await writes();

const sent = floods.reduce((n, f) => n + f.sent, 0);
const seconds = floods.reduce((n, f) => n + f.seconds, 0);
const statuses: Record<string, number> = {};
for (const f of floods) for (const [status, n] of Object.entries(f.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
const row = (name: string, results: Result[]) =>
  `${name.padEnd(36)} ${median(results.map((r) => r.rps)).toFixed(0).padStart(8)} req/s   p99 ${median(results.map((r) => r.p99)).toFixed(2)} ms   (rounds: ${results.map((r) => r.rps.toFixed(0)).join(', ')})`;
console.log(`database: ${database.split(':')[0]}; ${values.rounds} rounds of ${duration} s, ${values.connections} connections`);
console.log(row('verification, no flood', quiet));
console.log(row('verification, during the flood', flooded));
console.log(row('verification, flood sent elsewhere', elsewhere));
const ratio = (a: Result[], b: Result[]) => `${(median(a.map((r) => r.rps)) / median(b.map((r) => r.rps))).toFixed(3)} ` +
  `(median of each round's own ratio: ${median(a.map((r, i) => r.rps / b[i]!.rps)).toFixed(3)})`;
console.log(`throughput during the flood / without: ${ratio(flooded, quiet)}`);
console.log(`throughput during the flood / during the flood sent elsewhere (Kupe's own cost): ${ratio(flooded, elsewhere)}`);
console.log(`errors during the flood: ${flooded.reduce((n, r) => n + r.errors, 0)}; without: ${quiet.reduce((n, r) => n + r.errors, 0)}`);
console.log(`flood: ${sent} bogus reports in ${seconds.toFixed(1)} s (${((sent / seconds) * 60).toFixed(0)} a minute), answered ${JSON.stringify(statuses)}`);
console.log(`store writes during the run: audit entries ${before.audit} -> ${after.audit}, revoked keys ${before.revoked} -> ${after.revoked}` +
  (sqlite ? `, SQLite data_version ${before.dataVersion} -> ${after.dataVersion} (changes when another connection commits)` : ''));

sqlite?.close();
await store.close();
kupe.child.kill('SIGTERM');
document.child.kill('SIGTERM');
