import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { setTenantDisabled } from '../../src/domain/tenants.ts';
import { firstSignIn, launchBrowser, NO_BROWSER, startConsoleServer } from './console-helpers.ts';

let browser: Browser;
before(async () => { if (!NO_BROWSER) browser = await launchBrowser(); });
after(() => browser?.close());
const skip = NO_BROWSER;

async function page(t: TestContext, options: BrowserContextOptions = {}) {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], ...options });
  t.after(() => context.close());
  return context.newPage();
}

test('the show-once dialog: the whole key in view, the list behind it already refreshed, copy buttons that say so, Escape asks first', { skip }, async (t) => {
  const { url, demo } = await startConsoleServer(t);
  const p = await page(t);
  await firstSignIn(p, url, demo.email, demo.password);
  await p.getByText('No API keys yet. Create one for each pipeline').waitFor();
  await p.getByRole('button', { name: 'Create API key' }).click();
  await p.getByLabel('Display name', { exact: true }).fill('deploy-pipeline');
  await p.getByRole('button', { name: 'Create key' }).click();
  const field = p.getByTestId('raw-key');
  const raw = await field.inputValue();
  const fits = await field.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight);
  assert.equal(fits, true, 'all 63 characters in view, kupe_ included');
  assert.equal(await p.locator('tbody tr', { hasText: 'deploy-pipeline' }).count(), 1, 'the list behind the dialog has the new key already');

  await p.getByRole('button', { name: 'Copy the API key' }).click();
  await p.getByRole('button', { name: 'Copy the API key' }).getByText('Copied').waitFor();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), raw);
  await p.getByText('GitHub Actions').click();
  await p.getByRole('button', { name: 'Copy the GitHub Actions snippet' }).click();
  assert.match(await p.evaluate(() => navigator.clipboard.readText()), /secrets\.KUPE_API_KEY/);

  await p.keyboard.press('Escape');
  await p.getByText('Close without storing the key?').waitFor();
  await p.waitForFunction(() => document.activeElement?.textContent === 'Back', undefined, { timeout: 5000 }); // Enter does not discard the key
  await p.keyboard.press('Enter');
  assert.equal(await field.inputValue(), raw, 'Back: the key is still there');
  await p.keyboard.press('Escape');
  await p.getByRole('button', { name: 'Close anyway' }).click();
  assert.equal(await p.getByRole('dialog').count(), 0, 'closed');
  assert.ok(!(await p.content()).includes(raw), 'and the key gone from the page');

  await p.getByRole('button', { name: 'Revoke deploy-pipeline' }).click();
  await p.getByRole('dialog').getByText('stops working at once').waitFor();
  assert.equal(await p.evaluate(() => document.activeElement?.textContent), 'Cancel', 'the revoke dialog focuses Cancel: Enter revokes nothing');
  await p.keyboard.press('Enter');
  assert.equal(await p.locator('tbody tr', { hasText: 'deploy-pipeline' }).count(), 1, 'still there');
});

test('dates carry their time zone; the invite link has a copy button; the header keeps its links apart; the audit log reads at 390 px', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  await createApiKey(store, 'demo', { displayName: 'ci', role: 'readonly', expiresAt: '2099-01-01T00:00:00Z' }, { actor: 'operator', now: new Date() });
  const p = await page(t, { timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  await firstSignIn(p, url, demo.email, demo.password);
  const expires = await p.locator('tbody tr', { hasText: 'ci' }).locator('td[data-label="Expires"]').innerText();
  assert.match(expires, /1 Jan 2099, 01:00 CET/, `the expiry in the browser's zone, named: ${expires}`);

  const [change, signOut] = [await p.getByRole('link', { name: 'Change password' }).boundingBox(), await p.getByRole('button', { name: 'Sign out' }).boundingBox()];
  assert.ok(signOut!.x - (change!.x + change!.width) >= 12, 'Change password and Sign out do not run together');

  await p.getByRole('link', { name: 'Members' }).click();
  await p.getByLabel('Email').fill('bob@example.com');
  await p.getByRole('button', { name: 'Add member' }).click();
  const dialog = p.getByRole('dialog', { name: 'Send this invite link' });
  assert.match(await dialog.innerText(), /valid until \d+ \w{3} \d{4}, \d\d:\d\d CET/);
  await dialog.getByRole('button', { name: 'Copy the invite link' }).click();
  await dialog.getByRole('button', { name: 'Copy the invite link' }).getByText('Copied').waitFor();
  assert.match(await p.evaluate(() => navigator.clipboard.readText()), /\/#\/invite\/[A-Za-z0-9_-]{43}$/);
  await dialog.getByRole('button', { name: 'Done' }).click();

  await p.setViewportSize({ width: 390, height: 844 });
  await p.getByRole('link', { name: 'Audit log' }).click();
  await p.locator('tbody tr', { hasText: 'member.add' }).first().waitFor();
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'nothing off-screen at 390 px');
  const entry = p.locator('tbody tr', { hasText: 'member.add' }).first();
  for (const label of ['Time', 'Actor', 'Action', 'Target', 'Client IP']) {
    const box = await entry.locator(`td[data-label="${label}"]`).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${label} within the screen`);
  }
});

test('a tenant the operator disabled: the console says so instead of the page, and comes back once it is enabled', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const p = await page(t);
  await firstSignIn(p, url, demo.email, demo.password);
  await p.getByText('No API keys yet. Create one for each pipeline').waitFor();
  await setTenantDisabled(store, 'demo', true, { actor: 'operator', now: new Date() });
  await p.reload();
  const alert = p.getByRole('alert');
  await alert.getByText('Tenant demo is disabled by the operator').waitFor();
  assert.match(await alert.innerText(), /refused until it is enabled again\. Ask your operator\./);
  assert.equal(await p.getByRole('button', { name: 'Create API key' }).count(), 0, 'no page of the tenant');
  await setTenantDisabled(store, 'demo', false, { actor: 'operator', now: new Date() });
  await p.reload();
  await p.getByText('No API keys yet. Create one for each pipeline').waitFor();
});
