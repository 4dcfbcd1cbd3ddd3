// Runs every *.test.ts under test/ with node's test runner through tsx, except the third-party client
// tests under test/clients/ (npm run test:clients), unless files are named.
// (Node 20's --test does not expand globs, so the files are listed here.)
//
// --fast: only the in-process tiers (no test that starts a built `kupe-server`, a browser or a packed
// install: no file that imports test/processes.ts, test/e2e/console-helpers.ts or test/package/), so no
// build is needed first: `npm run test:fast`, a few seconds per file, about a minute in all.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const only = args.filter((a) => a !== '--fast');
const SLOW = /from '\.\.?\/(?:\.\.\/)?(?:processes|e2e\/console-helpers|console-helpers)\.ts'/;
const slow = (file) => file.startsWith(join('test', 'package')) || SLOW.test(readFileSync(file, 'utf8'));
const files = only.length > 0
  ? only
  : readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts') && !f.startsWith('clients/'))
    .map((f) => join('test', f))
    .filter((f) => !fast || !slow(f))
    .sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
