// Runs the *.test.ts files under test/ with node's test runner through tsx (Node 20's --test does not expand
// globs, so the files are listed here): every file but the third-party client tests under test/clients/
// (npm run test:clients), or the tiers and files named:
//
//   --fast       the in-process tiers: no file that starts a built `kupe-server`, a browser or a packed install
//                (none that imports test/processes.ts, test/e2e/console-helpers.ts or test/package/), so no
//                build is needed first: `npm run test:fast`
//   --database   the files that open a database (what the PostgreSQL pass of CI runs), but the browser tier
//   FILE...      these files (with the tiers, if any are named too)
//   --list       print the files instead of running them
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const tiers = args.filter((a) => a.startsWith('--'));
const named = args.filter((a) => !a.startsWith('--'));
const list = tiers.includes('--list');
if (list) tiers.splice(tiers.indexOf('--list'), 1);
const unknown = tiers.filter((a) => a !== '--fast' && a !== '--database');
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')}: --fast, --database, --list or test files`);
  process.exit(2);
}

const SLOW = /from '\.\.?\/(?:\.\.\/)?(?:processes|e2e\/console-helpers|console-helpers)\.ts'/;
const DATABASE = /\b(?:buildTestApp|openTestStore|testDatabaseUrl|TEST_POSTGRES_URL|startConsoleServer)\b/;
const text = (file) => readFileSync(file, 'utf8');
const slow = (file) => file.startsWith(join('test', 'package')) || SLOW.test(text(file));
const usesDatabase = (file) => !file.startsWith(join('test', 'e2e')) && DATABASE.test(text(file));

// The longest first, so that no long file starts last: the packed install, then the other slow tiers, then
// the rest in order.
const FIRST = ['package', 'faults', 'cli', 'e2e', 'multi'].map((tier) => join('test', tier));
const rank = (file) => {
  const at = FIRST.findIndex((tier) => file.startsWith(tier));
  return at === -1 ? FIRST.length : at;
};
const all = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && !f.startsWith('clients/'))
  .map((f) => join('test', f));
const chosen = tiers.length === 0 && named.length === 0 ? all : [
  ...all.filter((f) => (tiers.includes('--fast') && !slow(f)) || (tiers.includes('--database') && usesDatabase(f))),
  ...named,
];
const files = [...new Set(chosen)].sort().sort((a, b) => rank(a) - rank(b));
if (list) {
  console.log(files.join('\n'));
  process.exit(0);
}

// Files run side by side (each in its own process; every test has its own database, ports and Redis
// prefix): KUPE_TEST_CONCURRENCY, by default one more than the machine's cores, since much of a test's time
// is spent waiting on a server, a browser or a child process.
const concurrency = Number(process.env.KUPE_TEST_CONCURRENCY) || availableParallelism() + 1;
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
