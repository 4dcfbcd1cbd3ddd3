import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What an operator does: `npm pack` the checkout (already built: dist/ and console/dist/), then
 * `npm install --omit=dev` of the tarball in an empty folder. Returns the folder and the installed bin.
 *
 * better-sqlite3 comes as a prebuilt binary, from a mirror on loopback (`binaryMirror`), as it does for an
 * operator whose machines cannot reach GitHub. Without the mirror (`compile`), it compiles SQLite from
 * source: about 90 s of one core. `npm ci` compiles it in CI anyway, on Node 20 and 24.
 */
export async function installPackage(dir: string, options: { compile?: boolean } = {}): Promise<{ dir: string; bin: string; tarball: string }> {
  mkdirSync(dir, { recursive: true });
  // --ignore-scripts: prepack would rebuild dist/ under tests that are running it.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as { filename: string }[];
  const tarball = join(dir, packed[0]!.filename);
  const app = join(dir, 'app');
  mkdirSync(app);
  // The folder's own package.json approves the one install script the package needs (npm 11 asks).
  writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }));
  const mirror = options.compile ? undefined : await binaryMirror(dir);
  try {
    await promisify(execFile)(NPM, ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: app, env: { ...process.env, ...(mirror && { npm_config_better_sqlite3_binary_host: mirror.url }) },
    });
  } finally {
    mirror?.close();
  }
  return { dir: app, bin: join(app, 'node_modules/.bin/kupe-server'), tarball };
}

/**
 * A binary mirror for better-sqlite3 (what `npm_config_better_sqlite3_binary_host` names), serving the
 * checkout's own build for this Node, packed as prebuild-install downloads it
 * (`/v<version>/better-sqlite3-v<version>-node-v<abi>-<platform>-<arch>.tar.gz`). Anything else is 404,
 * so a package that resolved another better-sqlite3 version compiles it instead.
 */
async function binaryMirror(dir: string): Promise<{ url: string; close: () => void }> {
  const module = join(ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const archive = join(dir, name);
  execFileSync('tar', ['-czf', archive, '-C', module, 'build/Release/better_sqlite3.node']);
  const body = readFileSync(archive);
  const server = createServer((request, response) => {
    const found = request.url === `/v${version}/${name}`;
    response.writeHead(found ? 200 : 404, { 'content-length': found ? body.length : 0 }).end(found ? body : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Every file under dir with its size and modification time: to show that running wrote nothing there. */
export function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((f) => {
    const s = statSync(join(dir, f));
    return `${f} ${s.size} ${s.mtimeMs}`;
  });
}
