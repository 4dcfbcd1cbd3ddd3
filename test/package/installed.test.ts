import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { until } from '../helpers.ts';
import { installPackage, listing } from './install.ts';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

/**
 * The package as an operator gets it: packed, installed without dev dependencies in an empty folder, then
 * run from another folder. Runs on whichever Node runs the suite (CI: 20 and 24).
 */
/** The package does not depend on the database: the PostgreSQL pass of CI leaves it to the SQLite passes (Node 20 and 24). */
const onPostgres = process.env.KUPE_TEST_DATABASE_URL?.startsWith('postgres') ? 'the SQLite passes test the package (it does not depend on the database)' : false;

const work = mkdtempSync(join(tmpdir(), 'kupe-package-'));
after(() => rmSync(work, { recursive: true, force: true }));
let installation: ReturnType<typeof installPackage> | undefined;
/** One install for both tests. */
const installed = () => (installation ??= installPackage(join(work, 'package')));

test('the packed package installs without dev dependencies and serves the API and the console', { skip: onPostgres, timeout: 600_000 }, async (t) => {
  const { dir, bin } = await installed();

  for (const dev of ['tsx', 'typescript', 'vite', 'preact', 'esbuild', 'eslint', 'oidc-provider']) {
    assert.equal(existsSync(join(dir, 'node_modules', dev)), false, `${dev} is a build tool, not installed for production`);
  }
  const root = join(dir, 'node_modules/kupe');
  assert.ok(existsSync(join(root, 'LICENSE')), 'LICENSE shipped');
  assert.equal(existsSync(join(root, 'src')), false, 'the TypeScript sources are not shipped: dist/ is');
  // The shipped README and docs read as they do in the repository: every relative link and image is there.
  const documents = ['README.md', 'CHANGELOG.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken = documents.flatMap((doc) => [...readFileSync(join(root, doc), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!).filter((target) => target !== '' && !/^[a-z]+:/.test(target))
    .filter((target) => !existsSync(join(root, dirname(doc), target))).map((target) => `${doc} -> ${target}`));
  assert.deepEqual(broken, [], 'every relative link of the shipped docs resolves in the package');
  assert.ok(existsSync(join(root, 'docs/screenshots/api-keys.png')), "the README's screenshots are shipped");

  assert.equal((await run(bin, ['--version'])).stdout.trim(), `kupe-server ${VERSION}`);
  const usage = await run(bin, []).then(() => assert.fail('no command must not start a server'), (e: { code: number; stderr: string }) => e);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /no command given/);

  const before = listing(root);
  const data = join(work, 'data');
  const child = spawn(bin, ['serve'], {
    cwd: work,
    env: { ...process.env, KUPE_PORT: '0', KUPE_LOG_LEVEL: 'info', KUPE_DATABASE_URL: `sqlite:${join(data, 'kupe.db')}`, KUPE_SHUTDOWN_DELAY_SECONDS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { child.kill('SIGKILL'); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
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
  assert.deepEqual(listing(root), before, 'nothing was written into the install folder');
});

/** The final stage of the Dockerfile: its ENV, USER, ENTRYPOINT, CMD and HEALTHCHECK command. */
function imageSpec() {
  const text = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const line = (word: string) => new RegExp(`^${word} (.+)$`, 'm').exec(final)?.[1] ?? assert.fail(`no ${word} in the final stage`);
  const env = Object.fromEntries([...line('ENV').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  const healthcheck = JSON.parse(/ CMD (\[.+\])$/.exec(line('HEALTHCHECK'))![1]!) as string[];
  return { env, user: line('USER'), entrypoint: JSON.parse(line('ENTRYPOINT')) as string[], cmd: JSON.parse(line('CMD')) as string[], healthcheck };
}

const containerSkip = process.getuid?.() !== 0 || !existsSync('/usr/bin/unshare') || !existsSync('/usr/bin/setpriv')
  ? 'needs root with unshare and setpriv (CI runs as root) to start the command as PID 1 of its own PID namespace as an unprivileged user'
  : false;

/**
 * The image cannot be built or run on these machines (docs/deployment.md says why), so its command runs
 * here from the same layout: the package installed as /opt/kupe is (root's, read-only to the server), data
 * in a folder of the server's own as the volume is, the image's environment, an unprivileged user, and
 * kupe-server as PID 1 of a PID namespace of its own. The HEALTHCHECK command is the Dockerfile's.
 */
test("the image's command, as the Dockerfile states it: PID 1, unprivileged, healthy, stops on SIGTERM", { skip: onPostgres || containerSkip, timeout: 600_000 }, async (t) => {
  const spec = imageSpec();
  assert.equal(spec.user, 'node', 'the image runs as the base image\'s unprivileged user');
  const { dir } = await installed();
  for (let d = dir; d !== '/'; d = dirname(d)) if (d.startsWith(work)) chmodSync(d, 0o755);
  const volume = join(work, 'volume');
  mkdirSync(volume);
  chownSync(volume, 65534, 65534);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH!, ...spec.env, KUPE_PORT: String(port), KUPE_HOST: '127.0.0.1',
    KUPE_DATABASE_URL: spec.env.KUPE_DATABASE_URL!.replace('/var/lib/kupe', volume), KUPE_SHUTDOWN_DELAY_SECONDS: '2',
  };
  const command = [...spec.entrypoint, ...spec.cmd].map((arg) => arg.replace('/opt/kupe', dir));
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command],
    { cwd: volume, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const healthcheck = () => run(process.execPath, spec.healthcheck.slice(1), { env }).then(() => 0, (e: { code: number }) => e.code);
  for (let i = 0; i < 100 && await healthcheck() !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await healthcheck(), 0, `the HEALTHCHECK command passes once the server is up:\n${out}`);

  const [server] = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ').map(Number);
  const status = readFileSync(`/proc/${server}/status`, 'utf8');
  assert.match(status, /^NSpid:\s+\d+\s+1$/m, 'kupe-server is PID 1 in its namespace');
  assert.match(status, /^Uid:\s+65534\s/m, 'and runs unprivileged');
  assert.equal(readlinkSync(`/proc/${server}/exe`), realpathSync(process.execPath),
    'the #! line found the node this suite runs on first on PATH (it must be readable by the unprivileged user)');
  assert.match(readFileSync(`/proc/${server}/cmdline`, 'utf8'), /^[^\0]*node\0--max-semi-space-size=1\0[^\0]*kupe-server\0serve\0$/,
    'node itself, through the #! line (env execs it: no shell or env left as PID 1)');

  process.kill(server!, 'SIGTERM');
  // Draining: the HEALTHCHECK fails so the orchestrator stops sending traffic (KUPE_SHUTDOWN_DELAY_SECONDS=2).
  await until(async () => await healthcheck() === 1, 'the HEALTHCHECK failing while draining', 2000);
  assert.equal(await exited, 0, `PID 1 handled SIGTERM and exited 0:\n${out}`);
  assert.match(out, /"msg":"stopped"/);
  assert.ok(existsSync(join(volume, 'kupe.db')), 'the data is on the volume');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
