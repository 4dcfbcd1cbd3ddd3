import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildTestApp, type TestApp, until } from '../helpers.ts';

/**
 * The documented gateway configurations (deploy/gateway/), run by Debian's nginx and Caddy on loopback in
 * front of a small upstream that echoes what it received, with Kupe deciding. Only the addresses in the
 * files are changed, to free ports.
 */
const DEPLOY = join(import.meta.dirname, '../../deploy/gateway');
const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';
const missing = [NGINX, CADDY].filter((bin) => !existsSync(bin));
const skip = missing.length > 0 && process.env.CI !== 'true' ? `needs ${missing.join(' and ')} (apt-get install nginx caddy)` : false;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Echo { method: string; url: string; headers: Record<string, string> }

/** The platform service: answers with what it received. */
async function startUpstream(t: TestContext): Promise<number> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return (server.address() as AddressInfo).port;
}

/** Kupe on a loopback port, trusting the gateway (loopback) for the client's address. */
async function startKupe(t: TestContext, dir: string): Promise<TestApp & { port: number }> {
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({
    tenant: { path: '/api/v1/tenants/{tenant}' }, public: ['GET /status'],
    rules: [{ match: 'GET,HEAD /api/v1/tenants/*/**', role: 'readonly' }, { match: '/api/v1/tenants/*/**', role: 'admin' }],
  }));
  const app = await buildTestApp(t, { config: { trustProxy: ['loopback'], rateLimit: 5, gatewayPolicyFile: policy } });
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...app, port: (app.app.server.address() as AddressInfo).port };
}

/** The documented file with its addresses moved to this test's ports. */
function documented(file: string, ports: { gateway: number; kupe: number; upstream: number }, listening: string): string {
  return readFileSync(join(DEPLOY, file), 'utf8')
    .replaceAll(listening, `127.0.0.1:${ports.gateway}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.kupe}`)
    .replaceAll('127.0.0.1:9000', `127.0.0.1:${ports.upstream}`);
}

function run(t: TestContext, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  // SIGTERM, and wait: killed outright, nginx's master would leave its worker behind, holding its
  // keep-alive connections to Kupe and the upstream open.
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  return { child, output: () => output };
}

async function listening(port: number, what: string, output: () => string): Promise<void> {
  const accepts = () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
  await until(accepts, `${what} listening on ${port}`).catch((error: Error) => { throw new Error(`${error.message}\n${output()}`); });
}

async function startNginx(t: TestContext, dir: string, ports: { gateway: number; kupe: number; upstream: number }) {
  chmodSync(dir, 0o777); // nginx's workers run as nobody
  writeFileSync(join(dir, 'kupe-gateway.conf'), documented('nginx.conf', ports, '127.0.0.1:8000'));
  writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/kupe-gateway.conf;
}
`);
  const nginx = run(t, NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')]);
  await listening(ports.gateway, 'nginx', () => `${nginx.output()}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
}

async function startCaddy(t: TestContext, dir: string, ports: { gateway: number; kupe: number; upstream: number }) {
  writeFileSync(join(dir, 'kupe.caddy'), documented('Caddyfile', ports, '127.0.0.1:8001'));
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n}\nimport ${dir}/kupe.caddy\n`);
  const caddy = run(t, CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir });
  await listening(ports.gateway, 'caddy', caddy.output);
}

/** A request through the gateway from a given loopback address (the rate limit counts it). */
function call(port: number, method: string, path: string, options: { key?: string; from?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method, path, localAddress: options.from ?? '127.0.0.1', agent: false,
      headers: { ...(options.key && { authorization: `Bearer ${options.key}` }), ...options.headers },
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const json = (body: string) => JSON.parse(body) as { code?: string; error?: string } & Echo;

for (const gateway of ['nginx', 'caddy'] as const) {
  test(`${gateway} with Kupe deciding: roles, tenants, refusals with Kupe's body, revocation at once, public paths, limits per caller`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), `kupe-${gateway}-`));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const kupe = await startKupe(t, dir);
    const ports = { gateway: await freePort(), kupe: kupe.port, upstream: await startUpstream(t) };
    await (gateway === 'nginx' ? startNginx : startCaddy)(t, dir, ports);
    const through = (method: string, path: string, options?: Parameters<typeof call>[3]) => call(ports.gateway, method, path, options);
    let from = 10; // each case from an address of its own: the per-address limit is 5 a minute
    const fresh = () => `127.0.0.${from++}`;

    const none = await through('GET', '/api/v1/tenants/acme/clusters', { from: fresh() });
    assert.equal(none.status, 401, none.body);
    assert.equal(json(none.body).code, 'authentication_required');
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);

    const read = await through('GET', '/api/v1/tenants/acme/clusters?page=2', { key: kupe.readonlyKey, from: fresh() });
    assert.equal(read.status, 200, read.body);
    const seen = json(read.body);
    assert.equal(seen.url, '/api/v1/tenants/acme/clusters?page=2');
    assert.deepEqual([seen.headers['x-kupe-tenant'], seen.headers['x-kupe-role'], seen.headers['x-kupe-principal'], seen.headers['x-kupe-credential']],
      ['acme', 'readonly', kupe.readonlyKeyId, 'apikey']);
    assert.equal(seen.headers.authorization, undefined, 'the key stops at the gateway');

    const write = await through('POST', '/api/v1/tenants/acme/clusters', { key: kupe.readonlyKey, from: fresh() });
    assert.deepEqual([write.status, json(write.body).code], [403, 'admin_required'], write.body);
    assert.equal((await through('POST', '/api/v1/tenants/acme/clusters', { key: kupe.adminKey, from: fresh() })).status, 200);
    const otherTenant = await through('GET', '/api/v1/tenants/acme/clusters', { key: kupe.otherTenantKey, from: fresh() });
    assert.deepEqual([otherTenant.status, json(otherTenant.body).code], [403, 'not_a_member']);
    const traversal = await through('GET', '/api/v1/tenants/globex/%2e%2e/acme/clusters', { key: kupe.otherTenantKey, from: fresh() });
    assert.equal(traversal.status, 400, traversal.body);

    // Public: no credential needed, and a client's own X-Kupe-* headers never reach the upstream.
    const open = await through('GET', '/status', { from: fresh(), headers: { 'x-kupe-tenant': 'acme', 'x-kupe-role': 'admin' } });
    assert.equal(open.status, 200, open.body);
    for (const name of ['x-kupe-tenant', 'x-kupe-role']) assert.ok(!json(open.body).headers[name], `${name}: ${json(open.body).headers[name]} (none, or empty)`);

    // Revoked: refused through the gateway on the very next request.
    const address = fresh();
    assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.readonlyKey, from: address })).status, 200);
    assert.equal((await kupe.call('DELETE', `/api/v1/tenants/acme/apikeys/${kupe.readonlyKeyId}`, { key: kupe.adminKey })).statusCode, 204);
    const revoked = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.readonlyKey, from: address });
    assert.deepEqual([revoked.status, json(revoked.body).code], [401, 'api_key_revoked']);

    // The per-address limit counts the caller behind the gateway, not the gateway: 5 a minute.
    const busy = fresh();
    for (let i = 0; i < 5; i++) assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: busy })).status, 200, `request ${i + 1}`);
    const limited = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: busy });
    assert.deepEqual([limited.status, json(limited.body).code], [429, 'rate_limited'], limited.body);
    assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After: ${String(limited.headers['retry-after'])}`);
    assert.equal((await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: fresh() })).status, 200, 'another caller is not limited');

    // Kupe gone: the gateway fails closed (nginx 500, Caddy 502), and nothing reaches the upstream.
    await kupe.app.close();
    const down = await through('GET', '/api/v1/tenants/acme/x', { key: kupe.adminKey, from: fresh() });
    assert.ok(down.status >= 500, `${down.status}: ${down.body}`);
    assert.ok(!down.body.includes('"headers"'), 'the upstream did not answer');
  });
}
