// Runs every *.test.ts under test/ with node's test runner through tsx, except the third-party client
// tests under test/clients/ (npm run test:clients), unless files are named.
// (Node 20's --test does not expand globs, so the files are listed here.)
//
// --fast: only the in-process tiers (no test that starts a built `kupe-server`, a browser or a packed
// install: no file that imports test/processes.ts, test/e2e/console-helpers.ts or test/package/), so no
// build is needed first: `npm run test:fast`, a few seconds per file, about a minute in all.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const only = args.filter((a) => a !== '--fast');
const SLOW = /from '\.\.?\/(?:\.\.\/)?(?:processes|e2e\/console-helpers|console-helpers)\.ts'/;
const slow = (file) => file.startsWith(join('test', 'package')) || SLOW.test(readFileSync(file, 'utf8'));
const FIRST = ['package', 'faults', 'cli', 'e2e', 'multi'].map((tier) => join('test', tier));
const rank = (file) => {
  const at = FIRST.findIndex((tier) => file.startsWith(tier));
  return at === -1 ? FIRST.length : at;
};
const files = only.length > 0
  ? only
  : readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts') && !f.startsWith('clients/'))
    .map((f) => join('test', f))
    .filter((f) => !fast || !slow(f))
    .sort()
    // The longest first, so that no long file starts last: the packed install (it compiles better-sqlite3),
    // then the other slow tiers, then the rest in order.
    .sort((a, b) => rank(a) - rank(b));
// Files run side by side (each in its own process; every test has its own database, ports and Redis
// prefix): KUPE_TEST_CONCURRENCY, by default one more than the machine's cores, since much of a test's time
// is spent waiting on a server, a browser or a child process.
const concurrency = Number(process.env.KUPE_TEST_CONCURRENCY) || availableParallelism() + 1;
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
