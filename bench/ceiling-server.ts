// bench/fastify-ceiling.ts's server: bare Fastify, three routes answering an empty 200. Prints {"url"}.
import { hash } from 'node:crypto';
import Fastify from 'fastify';

const KUPE_HEADERS = { 'cache-control': 'no-store', 'x-kupe-tenant': 'bench', 'x-kupe-role': 'readonly', 'x-kupe-principal': 'ak-1ed68ca7', 'x-kupe-credential': 'apikey' };
const app = Fastify();
app.get('/empty', async (_request, reply) => reply.header('content-length', 0).send());
app.get('/headers', async (_request, reply) => reply.header('x-request-id', 'a1b2c3-1').headers(KUPE_HEADERS).header('content-length', 0).send());
await app.register(async (hooked) => {
  hooked.addHook('onRequest', (_request, reply, done) => { void reply.header('x-request-id', 'a1b2c3-1'); done(); });
  hooked.addHook('onRequest', (_request, _reply, done) => done());
  hooked.addHook('onRequest', async (request) => { hash('sha256', request.headers.authorization ?? '', 'hex'); });
  hooked.addHook('onSend', (_request, _reply, payload, done) => done(null, payload));
  hooked.addHook('onResponse', (_request, _reply, done) => done());
  hooked.addHook('onResponse', (_request, _reply, done) => done());
  hooked.get('/hooked', (_request, reply) => { void reply.headers(KUPE_HEADERS).header('content-length', 0).send(); });
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
