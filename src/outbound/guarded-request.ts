import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Kupe's requests to addresses its users give it (webhook endpoints): one guarded client, so that a tenant
 * cannot make Kupe call something only Kupe's network can reach (server-side request forgery).
 * - Destinations are checked on the address actually connected to: the check runs in the connection's own
 *   DNS lookup, so a name that resolves to a public address when checked and a private one when connecting
 *   (DNS rebinding) cannot pass. IP literals are checked before connecting.
 * - Loopback, private, link-local, shared (CGNAT), multicast, reserved and unspecified addresses are refused
 *   unless the operator allows private destinations (a setting, for tests and closed networks).
 * - Redirects are not followed (a 3xx is an answer like any other); every request has a deadline; at most
 *   maxResponseBytes of the answer are read.
 */
export interface OutboundPolicy {
  /** Allow loopback, private and link-local destinations (tests, a closed network). */
  allowPrivate: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface OutboundAnswer {
  status: number;
  /** At most maxResponseBytes of the body, as text. */
  body: string;
}

/** Why a request was not made or did not finish: the message is safe to show the tenant. */
export class OutboundError extends Error {}

const blocked = new BlockList();
for (const [network, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(network, bits, 'ipv4');
for (const [network, bits] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96], ['100::', 64],
] as const) blocked.addSubnet(network, bits, 'ipv6');

/** Whether an address may be connected to under the policy. */
export function addressAllowed(address: string, policy: Pick<OutboundPolicy, 'allowPrivate'>): boolean {
  if (policy.allowPrivate) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address); // IPv4-mapped IPv6: the IPv4 address decides
  if (mapped) return !blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** dns.lookup, refusing what the policy refuses: what the connection uses is what was checked. */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        (callback as (e: Error) => void)(error);
        return;
      }
      const refused = addresses.find((a) => !addressAllowed(a.address, policy));
      if (refused) {
        (callback as (e: Error) => void)(new OutboundError(`${hostname} resolves to ${refused.address}, a private or reserved address`));
        return;
      }
      if ((options as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else (callback as (e: null, a: string, f: number) => void)(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** POSTs `body` to `url` under the policy. Rejects with an OutboundError that says why, in words for the tenant. */
export function postGuarded(url: string, body: string, headers: Record<string, string>, policy: OutboundPolicy): Promise<OutboundAnswer> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new OutboundError('not a URL'));
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return Promise.reject(new OutboundError('only http and https URLs'));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !addressAllowed(host, policy)) return Promise.reject(new OutboundError(`${host} is a private or reserved address`));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(policy.timeoutMs);
    const req = send(target, {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      lookup: guardedLookup(policy), signal, agent: false,
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= policy.maxResponseBytes) return;
        chunks.push(chunk.subarray(0, policy.maxResponseBytes - size));
        size += chunk.length;
        if (size >= policy.maxResponseBytes) res.destroy(); // the rest is not read
      });
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('end', done);
      res.on('close', done); // destroyed after the bound: what was read is the answer
      res.on('error', () => done());
    });
    req.on('error', (error: Error & { code?: string }) => {
      if (error instanceof OutboundError) reject(error);
      else if (error.name === 'AbortError' || error.name === 'TimeoutError') reject(new OutboundError(`no answer within ${policy.timeoutMs} ms`));
      else reject(new OutboundError(error.code ? `${error.code}` : error.message));
    });
    req.end(body);
  });
}
