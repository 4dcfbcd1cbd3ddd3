// Runs every *.test.ts under test/ with node's test runner through tsx, except the third-party client
// tests under test/clients/ (npm run test:clients), unless files are named.
// (Node 20's --test does not expand globs, so the files are listed here.)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const files = only.length > 0
  ? only
  : readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts') && !f.startsWith('clients/'))
    .map((f) => join('test', f))
    .sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
