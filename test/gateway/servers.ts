import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { until } from '../helpers.ts';

/**
 * The real gateways the gateway tests run: the documented configurations (deploy/gateway/), run by Debian's
 * nginx and Caddy on loopback in front of a small upstream that echoes what it received. Only the addresses
 * in the files are changed, to free ports.
 */
const DEPLOY = join(import.meta.dirname, '../../deploy/gateway');
const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';
const missing = [NGINX, CADDY].filter((bin) => !existsSync(bin));
/** A reason to skip where nginx or Caddy is not installed (never in CI, which installs both). */
export const gatewaysMissing = missing.length > 0 && process.env.CI !== 'true' ? `needs ${missing.join(' and ')} (apt-get install nginx caddy)` : false;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Echo { method: string; url: string; headers: Record<string, string> }

/** The platform service: answers with what it received. */
export async function startUpstream(t: TestContext): Promise<number> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return (server.address() as AddressInfo).port;
}

/** Where a test's gateway listens, the Kupe instance(s) it asks (nginx balances over several) and its upstream. */
export interface GatewayPorts { gateway: number; kupe: number | number[]; upstream: number }

/** The documented file with its addresses moved to this test's ports. */
export function documented(file: string, ports: GatewayPorts, listening: string): string {
  const text = readFileSync(join(DEPLOY, file), 'utf8')
    .replaceAll(listening, `127.0.0.1:${ports.gateway}`)
    .replaceAll('127.0.0.1:9000', `127.0.0.1:${ports.upstream}`);
  const kupe = [ports.kupe].flat();
  if (kupe.length === 1) return text.replaceAll('127.0.0.1:8080', `127.0.0.1:${kupe[0]}`);
  if (!text.includes('    server 127.0.0.1:8080;\n')) throw new Error(`${file}: no upstream line to balance over ${kupe.length} instances`);
  return text.replace('    server 127.0.0.1:8080;\n', kupe.map((port) => `    server 127.0.0.1:${port};\n`).join(''));
}

/** The policy the gateway tests decide by: docs/gateway.md's default, and one public path. */
export const TEST_POLICY = {
  tenant: { path: '/api/v1/tenants/{tenant}' }, public: ['GET /status'],
  rules: [{ match: 'GET,HEAD /api/v1/tenants/*/**', role: 'readonly' }, { match: '/api/v1/tenants/*/**', role: 'admin' }],
};

export function run(t: TestContext, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string } {
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

export async function listening(port: number, what: string, output: () => string): Promise<void> {
  const accepts = () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
  await until(accepts, `${what} listening on ${port}`).catch((error: Error) => { throw new Error(`${error.message}\n${output()}`); });
}

/**
 * nginx's main file for one unprivileged nginx in `dir` (one worker, no access log, its temporary files
 * there), with `http` holding what goes in its http {} block: the tests' and the benchmark's alike.
 */
export function nginxMain(dir: string, http: string, workerConnections = 256): string {
  chmodSync(dir, 0o777); // nginx's workers run as nobody
  return `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

export async function startNginx(t: TestContext, dir: string, ports: GatewayPorts) {
  writeFileSync(join(dir, 'kupe-gateway.conf'), documented('nginx.conf', ports, '127.0.0.1:8000'));
  writeFileSync(join(dir, 'nginx.conf'), nginxMain(dir, `  include ${dir}/kupe-gateway.conf;`));
  const nginx = run(t, NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')]);
  await listening(ports.gateway, 'nginx', () => `${nginx.output()}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
}

export async function startCaddy(t: TestContext, dir: string, ports: GatewayPorts) {
  writeFileSync(join(dir, 'kupe.caddy'), documented('Caddyfile', ports, '127.0.0.1:8001'));
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n}\nimport ${dir}/kupe.caddy\n`);
  const caddy = run(t, CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir });
  await listening(ports.gateway, 'caddy', caddy.output);
}

/** A request through the gateway from a given loopback address (the rate limit counts it). */
export function call(port: number, method: string, path: string, options: { key?: string; from?: string; headers?: Record<string, string> } = {}) {
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

