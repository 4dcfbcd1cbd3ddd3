// Writes docs/api.md from the OpenAPI document the server serves (npm run docs:api).
import { writeFileSync } from 'node:fs';
import { renderApiReference } from '../src/http/api-doc.ts';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/http/app.ts';
import { memoryLimits } from '../src/limits/memory.ts';
import { limitSettings } from '../src/limits/policy.ts';
import { openStore } from '../src/store/index.ts';

const { store, migrate } = openStore('sqlite::memory:');
await migrate();
const config = loadConfig({});
const { app } = await buildApp({ config, store, limits: memoryLimits(limitSettings(config)) });
await app.ready();
writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiReference(app.swagger() as Parameters<typeof renderApiReference>[0]));
await app.close();
await store.close();
console.log('wrote docs/api.md');
