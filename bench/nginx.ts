// nginx for the benchmark (Debian's package): the documented configuration (deploy/gateway/nginx.conf, as the
// gateway tests run it) in front of an upstream, beside the same proxying without auth_request, and the same
// auth_request asking a verifier that does no work (bare Fastify's empty 200): nginx's own ceiling here.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documented, freePort, nginxMain } from '../test/gateway/servers.ts';

export const NGINX = '/usr/sbin/nginx';
export const nginxInstalled = existsSync(NGINX);

export interface BenchNginx {
  /** nginx → upstream, no verification. */
  plain: string;
  /** nginx → auth_request → Kupe → upstream (the documented file). */
  kupe: string;
  /** nginx → auth_request → a verifier that answers an empty 200 at once → upstream. */
  noop: string;
  stop: () => Promise<void>;
}

/** Starts one nginx (one worker, as the gateway tests run it) with the three servers above. */
export async function startNginx(ports: { kupe: number; noop: number; upstream: number }): Promise<BenchNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-bench-nginx-'));
  const [kupe, noop, plain] = [await freePort(), await freePort(), await freePort()];
  const withKupe = documented('nginx.conf', { gateway: kupe, kupe: ports.kupe, upstream: ports.upstream }, '127.0.0.1:8000');
  const withNoop = documented('nginx.conf', { gateway: noop, kupe: ports.noop, upstream: ports.upstream }, '127.0.0.1:8000')
    .replace('upstream kupe {', 'upstream noop_verifier {').replace('upstream platform {', 'upstream platform_noop {')
    .replace('http://kupe/api/v1/gateway/verify?statuses=401-403', 'http://noop_verifier/bare/empty')
    .replaceAll('http://platform;', 'http://platform_noop;');
  writeFileSync(join(dir, 'nginx.conf'), nginxMain(dir, `${withKupe}
${withNoop}
  server {
    listen 127.0.0.1:${plain};
    location / {
      proxy_pass http://platform;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }`, 1024));
  const child: ChildProcess = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { stdio: 'inherit' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (const port of [kupe, noop, plain]) {
    for (let i = 0; !(await accepts(port)); i++) {
      if (i === 100 || child.exitCode !== null) throw new Error(`nginx is not listening on ${port} (${dir}/error.log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    plain: `http://127.0.0.1:${plain}`, kupe: `http://127.0.0.1:${kupe}`, noop: `http://127.0.0.1:${noop}`,
    // SIGTERM, and wait: killed outright, nginx's master would leave its worker behind.
    stop: async () => { child.kill('SIGTERM'); await exited; rmSync(dir, { recursive: true, force: true }); },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}
