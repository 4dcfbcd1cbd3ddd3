// The baseline: a bare Fastify route answering a JSON body of the given size, in a process of its own.
// Prints {"url"} once listening.
import Fastify from 'fastify';

const size = Number(process.env.BENCH_BODY_BYTES ?? '100');
const pad = 'x'.repeat(Math.max(0, size - JSON.stringify({ status: 'ok', pad: '' }).length));
const app = Fastify();
app.get('/bare', async () => ({ status: 'ok', pad }));
// The gateway verification's shape: 200 and an empty body with its length.
app.get('/bare/empty', async (_request, reply) => reply.header('content-length', 0).send());
// The platform behind nginx in the gateway rounds (bench/nginx.ts): the same empty 200.
app.get('/api/v1/tenants/bench/clusters', async (_request, reply) => reply.header('content-length', 0).send());
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ url }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
