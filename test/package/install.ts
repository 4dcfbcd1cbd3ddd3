import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What an operator does: `npm pack` the checkout (already built: dist/ and console/dist/), then
 * `npm install --omit=dev` of the tarball in an empty folder. Returns the folder and the installed bin.
 * better-sqlite3 compiles from source here (its prebuilt download is not reachable): about a minute.
 */
export function installPackage(dir: string): { dir: string; bin: string; tarball: string } {
  mkdirSync(dir, { recursive: true });
  // --ignore-scripts: prepack would rebuild dist/ under tests that are running it.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  const app = join(dir, 'app');
  mkdirSync(app);
  // The folder's own package.json approves the one install script the package needs (npm 11 asks).
  writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }));
  execFileSync(NPM, ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });
  return { dir: app, bin: join(app, 'node_modules/.bin/kupe-server'), tarball };
}

/** Every file under dir with its size and modification time: to show that running wrote nothing there. */
export function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((f) => {
    const s = statSync(join(dir, f));
    return `${f} ${s.size} ${s.mtimeMs}`;
  });
}
