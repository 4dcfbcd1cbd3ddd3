// Writes docs/api.md from the OpenAPI document the server serves (npm run docs:api).
import { writeFileSync } from 'node:fs';
import { REFERENCE_ENV, renderApiReference } from './api-reference.ts';
import { IssuerKeys } from '../src/oidc/issuer.ts';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/http/app.ts';
import { openStore } from '../src/store/index.ts';
import { systemClock } from '../src/domain/time.ts';
import { appDeps, TEST_CONFIG } from '../test/helpers.ts';

const { store, migrate } = openStore('sqlite::memory:', TEST_CONFIG.database);
await migrate();
const config = loadConfig(REFERENCE_ENV);
const issuerKeys = new IssuerKeys({ issuer: REFERENCE_ENV.KUPE_OIDC_ISSUER, refreshSeconds: 300, clock: systemClock }); // never started: no fetch
const { app } = await buildApp(await appDeps({ config, store, issuerKeys }));
await app.ready();
writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiReference(app.swagger() as Parameters<typeof renderApiReference>[0]));
await app.close();
await store.close();
console.log('wrote docs/api.md');
