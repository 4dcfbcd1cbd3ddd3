import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { installPackage, listing } from './install.ts';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

/**
 * The package as an operator gets it: packed, installed without dev dependencies in an empty folder, then
 * run from another folder. Runs on whichever Node runs the suite (CI: 20 and 24).
 */
test('the packed package installs without dev dependencies and serves the API and the console', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'kupe-package-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const { dir, bin } = installPackage(work);

  for (const dev of ['tsx', 'typescript', 'vite', 'preact', 'esbuild', 'eslint']) {
    assert.equal(existsSync(join(dir, 'node_modules', dev)), false, `${dev} is a build tool, not installed for production`);
  }
  const installed = join(dir, 'node_modules/kupe');
  assert.ok(existsSync(join(installed, 'LICENSE')));
  assert.equal(existsSync(join(installed, 'src')), false, 'the TypeScript sources are not shipped: dist/ is');

  assert.equal((await run(bin, ['--version'])).stdout.trim(), `kupe-server ${VERSION}`);
  const usage = await run(bin, []).then(() => assert.fail('no command must not start a server'), (e: { code: number; stderr: string }) => e);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /no command given/);

  const before = listing(installed);
  const data = join(work, 'data');
  const child = spawn(bin, ['serve'], {
    cwd: work,
    env: { ...process.env, KUPE_PORT: '0', KUPE_LOG_LEVEL: 'info', KUPE_DATABASE_URL: `sqlite:${join(data, 'kupe.db')}`, KUPE_SHUTDOWN_DELAY_SECONDS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { child.kill('SIGKILL'); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });

  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<title>Kupe console<\/title>/);
  const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, 'the built console names its script');
  const asset = await fetch(`${url}${script}`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`${url}/api/v1/whoami`)).status, 401);
  assert.equal((await fetch(`${url}/api/v1/openapi.json`)).status, 200);

  child.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => child.once('exit', (code) => resolve(code))), 0, 'SIGTERM stops it cleanly');
  assert.ok(existsSync(join(data, 'kupe.db')), 'the data went where KUPE_DATABASE_URL said');
  assert.deepEqual(listing(installed), before, 'nothing was written into the install folder');
});
