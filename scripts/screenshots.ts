// Takes the console screenshots in docs/screenshots/ (shown in the README):
//   node --import tsx scripts/screenshots.ts
// A real server on a temporary SQLite file, sample data made through the domain, Debian's Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey, revokeApiKey } from '../src/domain/api-keys.ts';
import { LEAK_REPORTERS, revokeLeakedKeys } from '../src/domain/leaks.ts';
import { bootstrapEmptyStore } from '../src/domain/bootstrap.ts';
import { addMember } from '../src/domain/members.ts';
import { createWebhook } from '../src/domain/webhooks.ts';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/http/app.ts';
import { CONSOLE_DIR } from '../src/server.ts';
import { openStore } from '../src/store/index.ts';
import { IssuerKeys } from '../src/oidc/issuer.ts';
import { firstSignIn, launchBrowser } from '../test/e2e/console-helpers.ts';
import { startTestProvider } from '../test/oidc/provider.ts';
import { systemClock } from '../src/domain/time.ts';
import { appDeps, TEST_CONFIG } from '../test/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'kupe-shots-'));
const { store, migrate } = openStore(`sqlite:${join(dir, 'kupe.db')}`, TEST_CONFIG.database);
await migrate();
const now = new Date();
const demo = (await bootstrapEmptyStore(store, now))!;
const ctx = { actor: 'admin@example.com', now };
const days = (n: number) => new Date(now.getTime() + n * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
await createApiKey(store, 'demo', { displayName: 'github-actions-deploy', role: 'readonly', expiresAt: days(80) }, ctx);
await createApiKey(store, 'demo', { displayName: 'terraform', role: 'admin', expiresAt: days(5) }, ctx);
await createApiKey(store, 'demo', { displayName: 'nightly-report', role: 'readonly' }, { ...ctx, actor: 'operator' });
const gone = await createApiKey(store, 'demo', { displayName: 'old-laptop', role: 'admin' }, ctx);
await revokeApiKey(store, 'demo', gone.record.id, ctx);
// A key GitHub's secret scanning found in a public repository: the banner above the table, until acknowledged.
const leaked = await createApiKey(store, 'demo', { displayName: 'staging-deploy', role: 'readonly' }, ctx);
await revokeLeakedKeys(store, [{ token: leaked.key, source: 'https://github.com/example/shop/blob/4e1c2a9/.env.staging' }], LEAK_REPORTERS.github, { now });
await addMember(store, 'demo', { email: 'bob@example.com', role: 'readonly' }, undefined, ctx);
await addMember(store, 'demo', { email: 'carol@example.com', role: 'admin' }, undefined, ctx);
await createWebhook(store, 'demo', { url: 'https://hooks.example.com/kupe', events: ['apikey.created', 'apikey.revoked', 'apikey.leaked', 'apikey.expiring', 'apikey.expired'] }, ctx, { allowHttp: false });

const config = loadConfig({ KUPE_RATE_LIMIT: '0' });
const { app } = await buildApp(await appDeps({ config, store, consoleDir: CONSOLE_DIR }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launchBrowser();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
const shot = (name: string, fullPage = false) => page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage });

await page.goto(url);
await page.getByRole('heading', { name: 'Sign in to Kupe' }).waitFor();
await shot('sign-in');
await firstSignIn(page, url, demo.email, demo.password);
await page.getByRole('row', { name: /terraform/ }).waitFor();
await page.getByText(/^Revoked keys/).click(); // open: the revoked keys, when, by whom and why
await shot('api-keys', true);
await page.getByRole('button', { name: 'Create API key' }).click();
await page.getByLabel('Display name', { exact: true }).fill('gitlab-release');
await shot('create-key');
await page.getByRole('button', { name: 'Create key' }).click();
await page.getByText('GitHub Actions').click();
await shot('show-once');
await page.getByRole('button', { name: 'I have stored the key' }).click();
await page.getByRole('button', { name: 'Rotate terraform' }).click();
await page.getByRole('button', { name: 'Create terraform-new' }).click();
await page.getByRole('button', { name: 'Revoke old key…' }).scrollIntoViewIfNeeded();
await shot('rotate');
await page.keyboard.press('Escape');
await page.getByRole('link', { name: 'Members' }).click();
await page.getByRole('row', { name: /carol/ }).waitFor();
await shot('members');
await page.getByRole('link', { name: 'Webhooks' }).click();
await page.getByRole('row', { name: /hooks\.example\.com/ }).waitFor();
await shot('webhooks');
await page.getByRole('link', { name: 'Audit log' }).click();
await page.getByRole('row', { name: /apikey.revoke/ }).first().waitFor();
await shot('audit-log');
await page.getByRole('link', { name: 'Settings' }).click();
await page.getByRole('heading', { name: 'Tenant settings' }).waitFor();
await shot('settings');
// 400% zoom of a 1280-pixel window is a 320-pixel viewport: everything must still fit and read.
await page.setViewportSize({ width: 320, height: 720 });
await page.getByRole('link', { name: 'API keys' }).click();
await page.getByRole('row', { name: /terraform/ }).first().waitFor();
await shot('api-keys-400-percent');

// Sign-in through an identity provider: the test provider (npm's oidc-provider) on loopback, as Authentik.
const provider = await startTestProvider({ users: { dana: { email: 'dana@example.com', email_verified: true, groups: ['demo-readonly'] } } });
const oidcConfig = loadConfig({
  KUPE_RATE_LIMIT: '0', KUPE_OIDC_ISSUER: provider.issuer, KUPE_OIDC_CLIENT_ID: 'kupe-console', KUPE_OIDC_CLIENT_SECRET: 'screenshots',
  KUPE_OIDC_PROVIDER_NAME: 'Authentik',
});
const issuerKeys = new IssuerKeys({ issuer: provider.issuer, refreshSeconds: 300, clock: systemClock });
await issuerKeys.refresh();
const withProvider = await buildApp(await appDeps({ config: oidcConfig, store, consoleDir: CONSOLE_DIR, issuerKeys }));
const providerUrl = await withProvider.app.listen({ host: '127.0.0.1', port: 0 });
provider.addClient('kupe-console', 'screenshots', `${providerUrl}/oidc/callback`);
const fresh = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
await fresh.goto(providerUrl);
await fresh.getByRole('link', { name: 'Sign in with Authentik' }).waitFor();
await fresh.screenshot({ path: 'docs/screenshots/sign-in-provider.png' });
await fresh.getByRole('link', { name: 'Sign in with Authentik' }).click();
await fresh.locator('input[name="login"]').fill('dana');
await fresh.locator('input[name="password"]').fill('any');
await fresh.getByRole('button', { name: 'Sign-in' }).click();
await fresh.getByRole('button', { name: 'Continue' }).click();
await fresh.getByText("readonly through your identity provider's groups").waitFor();
await fresh.screenshot({ path: 'docs/screenshots/provider-membership.png' });
await withProvider.app.close();
await provider.close();

await browser.close();
await app.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log('screenshots written to docs/screenshots/');
