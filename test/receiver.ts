import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Received {
  /** performance.now() when the answer was sent. */
  at: number;
  /** Its webhook-id header. */
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What it was answered. */
  status: number;
}

/**
 * A webhook endpoint on loopback for the tests: what it got, and what it answers (`state.status`, after
 * `state.delayMs`). It can go down (connections refused) and come back on the same port.
 */
export async function webhookReceiver(t: TestContext) {
  const requests: Received[] = [];
  const state = { status: 200, delayMs: 0, arrived: 0 };
  let server: Server | undefined;
  let port = 0;
  const up = async () => {
    server = createServer((req, res) => {
      let body = '';
      state.arrived += 1;
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => setTimeout(() => {
        const status = state.status;
        requests.push({ at: performance.now(), id: String(req.headers['webhook-id']), headers: req.headers, body, status });
        res.writeHead(status).end();
      }, state.delayMs));
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const down = () => new Promise<void>((resolve) => {
    if (!server?.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
  await up();
  t.after(down);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    /** Every request, whatever it was answered. */
    requests,
    /** The deliveries it took (answered 2xx). */
    get accepted() { return requests.filter((r) => r.status >= 200 && r.status < 300); },
    state, up, down,
  };
}
