import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * GitHub's side of a secret-scanning report, on loopback: a key document served as GitHub serves its own
 * (`{"public_keys": [{key_identifier, key, is_current}]}`), with P-256 key pairs made here, and reports signed
 * as GitHub signs them (ECDSA over SHA-256 of the raw body, base64 DER). Used by the tests and the benchmark.
 */
export interface KeyDocument {
  url: string;
  /** How many times the document was fetched. */
  readonly fetches: number;
  /** Makes a key pair and publishes it (or, with publish false, keeps it unpublished); its identifier. */
  addKey(publish?: boolean): string;
  /** Publishes a key made with publish false. */
  publish(keyId: string): void;
  /** Signs the body with the key: the two headers GitHub sends. */
  sign(body: string, keyId: string): Record<string, string>;
  /** While true, the document answers 503. */
  failing: boolean;
  close(): Promise<void>;
}

export async function startKeyDocument(): Promise<KeyDocument> {
  const keys = new Map<string, { privateKey: KeyObject; pem: string; published: boolean }>();
  let fetches = 0;
  const document: KeyDocument = {
    url: '',
    get fetches() { return fetches; },
    failing: false,
    addKey(publish = true) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const keyId = randomBytes(32).toString('hex');
      keys.set(keyId, { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, published: publish });
      return keyId;
    },
    publish(keyId) {
      keys.get(keyId)!.published = true;
    },
    sign(body, keyId) {
      const signature = sign('sha256', Buffer.from(body), { key: keys.get(keyId)!.privateKey, dsaEncoding: 'der' }).toString('base64');
      return { 'github-public-key-identifier': keyId, 'github-public-key-signature': signature, 'content-type': 'application/json' };
    },
    close: async () => {},
  };
  const server: Server = createServer((_request, response) => {
    fetches += 1;
    if (document.failing) {
      response.writeHead(503).end();
      return;
    }
    const published = [...keys].filter(([, key]) => key.published);
    const body = JSON.stringify({
      public_keys: published.map(([id, key], i) => ({ key_identifier: id, key: key.pem, is_current: i === published.length - 1 })),
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  document.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
  document.close = () => new Promise((resolve) => server.close(() => resolve()));
  return document;
}

/** A report as GitHub sends one: a JSON array of findings. */
export function githubReport(tokens: string[], url = 'https://github.com/octo/app/blob/1a2b3c/deploy.sh'): string {
  return JSON.stringify(tokens.map((token) => ({ token, type: 'kupe_api_key', url, source: 'content' })));
}
