// The flood of bench/leak-flood.ts, in a process of its own: bogus GitHub secret-scanning reports at a steady
// rate from one client address (X-Forwarded-For; the bench server trusts loopback proxies). Half carry the
// identifier of a key GitHub's document publishes with a forged signature (Kupe runs the ECDSA check), half
// an identifier nobody publishes (Kupe may fetch the document again, at most every 10 s). Each body holds
// three key-shaped strings. Prints {"sent", "statuses"} as one JSON line when told to stop (SIGTERM).
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { generateRawApiKey } from '../src/domain/key-format.ts';

const url = new URL(`${process.env.FLOOD_URL!}/api/v1/secret-scanning/github`);
const perMinute = Number(process.env.FLOOD_PER_MINUTE ?? 10_000);
const publishedKeyId = process.env.FLOOD_KEY_ID!;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const statuses: Record<number, number> = {};
let sent = 0;

function bogus(i: number) {
  const body = JSON.stringify(Array.from({ length: 3 }, () => ({
    token: generateRawApiKey(`ak-${randomBytes(4).toString('hex')}`), type: 'kupe_api_key',
    url: `https://github.com/someone/repo/blob/${randomBytes(20).toString('hex')}/config.yml`, source: 'content',
  })));
  const keyId = i % 2 === 0 ? publishedKeyId : randomBytes(32).toString('hex');
  // A well-formed DER signature of random r and s: the verification runs to the end and fails.
  const r = Buffer.concat([Buffer.from([0]), randomBytes(32)]);
  const s = Buffer.concat([Buffer.from([0]), randomBytes(32)]);
  const der = Buffer.concat([Buffer.from([0x30, 4 + r.length + s.length, 0x02, r.length]), r, Buffer.from([0x02, s.length]), s]);
  return { body, headers: { 'content-type': 'application/json', 'github-public-key-identifier': keyId, 'github-public-key-signature': der.toString('base64'), 'x-forwarded-for': '198.51.100.7' } };
}

// Made before the flood starts, so that the flood costs this process as little as it can (it shares the
// machine with the server measured).
const reports = Array.from({ length: 200 }, (_, i) => bogus(i));

function send() {
  const { body, headers } = reports[sent % reports.length]!;
  sent += 1;
  const req = request(url, { method: 'POST', agent, headers }, (res) => {
    statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
    res.resume();
  });
  req.on('error', () => { statuses[0] = (statuses[0] ?? 0) + 1; });
  req.end(body);
}

// Evenly spread: a batch every 10 ms.
const started = performance.now();
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 60_000) * perMinute);
  while (sent < due) send();
}, 10);
process.once('SIGTERM', () => {
  clearInterval(timer);
  console.log(JSON.stringify({ sent, seconds: (performance.now() - started) / 1000, statuses }));
  process.exit(0);
});
console.log(JSON.stringify({ flooding: perMinute }));
