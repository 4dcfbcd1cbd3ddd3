// Writes docs/api.md from the OpenAPI document the server serves (npm run docs:api).
import { writeFileSync } from 'node:fs';
import { renderApiReference } from '../src/http/api-doc.ts';
import { buildApp } from '../src/http/app.ts';
import { openStore } from '../src/store/index.ts';

const { store, migrate } = openStore('sqlite::memory:');
await migrate();
const { app } = await buildApp({
  config: {
    trustProxy: false, rateLimit: 0, authBackoffAfter: 5, authBackoffMaxSeconds: 300, sessionIdleMinutes: 60,
    sessionMaxHours: 24, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 65, maxConnections: 16,
  },
  store,
});
await app.ready();
writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiReference(app.swagger() as Parameters<typeof renderApiReference>[0]));
await app.close();
await store.close();
console.log('wrote docs/api.md');
