import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { testDatabaseUrl } from '../helpers.ts';
import { logLines, startInstance } from '../processes.ts';

/** A self-signed certificate for 127.0.0.1 (openssl), as PEM text. */
function certificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert: execFileSync('cat', [cert]).toString(), key: execFileSync('cat', [key]).toString() };
}

/** GET over HTTPS through `agent`, trusting `ca`: the status and the certificate the connection was served with. */
function get(url: string, agent: Agent): Promise<{ status: number; servedWith: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { agent }, (res) => {
      const socket = res.socket as TLSSocket; // handed back to the agent once the answer has been read
      const servedWith = socket.getPeerCertificate().subject.CN as string;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, servedWith, socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS by settings: served with the certificate; SIGHUP takes a renewed one without dropping open connections; a bad one is refused and the old kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kupe-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = certificate(dir, 'first');
  const second = certificate(dir, 'second');
  const certFile = join(dir, 'kupe.crt');
  const keyFile = join(dir, 'kupe.key');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key, { mode: 0o600 });
  const server = await startInstance(t, 'tls', { KUPE_DATABASE_URL: await testDatabaseUrl(t), KUPE_TLS_CERT_FILE: certFile, KUPE_TLS_KEY_FILE: keyFile });
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const open = new Agent({ keepAlive: true, ca: [first.cert, second.cert], maxSockets: 1 });
  t.after(() => open.destroy());
  const before = await get(server.url, open);
  assert.deepEqual([before.status, before.servedWith], [200, 'first']);

  writeFileSync(certFile, second.cert);
  writeFileSync(keyFile, second.key);
  server.child.kill('SIGHUP');
  await logLines(server, (line) => line.includes('TLS certificate reloaded'));
  const kept = await get(server.url, open);
  assert.deepEqual([kept.status, kept.servedWith], [200, 'first'], 'the open connection goes on');
  assert.equal(kept.socket, before.socket, 'on the same socket: nothing was dropped');
  const fresh = new Agent({ ca: [second.cert] });
  t.after(() => fresh.destroy());
  assert.deepEqual(Object.values(await get(server.url, fresh)).slice(0, 2), [200, 'second'], 'a new connection gets the renewed certificate');

  writeFileSync(keyFile, first.key); // the other certificate's key: no pair
  server.child.kill('SIGHUP');
  const refused = await logLines(server, (line) => line.includes('TLS not reloaded'));
  assert.match(refused[0]!, /KUPE_TLS_CERT_FILE=.*KUPE_TLS_KEY_FILE=.*key values mismatch/);
  const still = new Agent({ ca: [second.cert] });
  t.after(() => still.destroy());
  assert.deepEqual(Object.values(await get(server.url, still)).slice(0, 2), [200, 'second'], 'the pair in use is kept');
  assert.equal(server.child.exitCode, null, 'and the server runs on');
});
