import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { signOut } from '../../src/domain/sessions.ts';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { createAccountWithOneTimePassword } from '../../src/domain/accounts.ts';
import { LEAK_REPORTERS, revokeLeakedKeys } from '../../src/domain/leaks.ts';
import {
  callWithKey, firstSignIn, launchBrowser, NEW_PASSWORD, newContext, NO_BROWSER, seriousA11yViolations, signIn, startConsoleServer, submitSignIn,
} from './console-helpers.ts';

let browser: Browser;
before(async () => { if (!NO_BROWSER) browser = await launchBrowser(); });
after(() => browser?.close());
const skip = NO_BROWSER;

test('first sign-in with the one-time password forces a new one, without asking for it twice', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const page = await (await newContext(browser, t)).newPage();
  await firstSignIn(page, url, demo.email, demo.password);
  assert.match(page.url(), /#\/t\/demo\/keys$/);
  // The one-time password no longer works; the new one does.
  const again = await (await newContext(browser, t)).newPage();
  await submitSignIn(again, url, demo.email, demo.password);
  await again.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
  await signIn(again, url, demo.email, NEW_PASSWORD);

  // After a reload the one-time password typed at sign-in is no longer known: then it is asked for.
  const otp = (await createAccountWithOneTimePassword(store, 'carol@example.com', new Date()))!;
  const carol = await (await newContext(browser, t)).newPage();
  await submitSignIn(carol, url, 'carol@example.com', otp);
  await carol.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await carol.reload();
  await carol.getByLabel('One-time password').fill(otp);
  await carol.getByLabel('New password (at least 12 characters)').fill(NEW_PASSWORD);
  await carol.getByLabel('New password again').fill(NEW_PASSWORD);
  await carol.getByRole('button', { name: 'Save password' }).click();
  await carol.getByText('You are not a member of any tenant yet.').waitFor();
});

test('create a key, read it once, use it, revoke it in the UI, and it is refused', { skip }, async (t) => {
  const { url, demo } = await startConsoleServer(t);
  const page = await (await newContext(browser, t)).newPage();
  await firstSignIn(page, url, demo.email, demo.password);

  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByLabel('Display name', { exact: true }).fill('deploy-pipeline');
  assert.equal(await page.getByRole('radio', { name: /readonly: reads/ }).isChecked(), true, 'readonly preselected');
  await page.getByRole('radio', { name: '30 days' }).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const raw = await page.getByTestId('raw-key').inputValue();
  assert.match(raw, /^kupe_[0-9a-f]{8}_[0-9A-Za-z]{49}$/);
  await page.getByText('It will not be shown again').waitFor();
  await page.getByText('GitHub Actions').click();
  await page.getByText('${{ secrets.KUPE_API_KEY }}').waitFor();
  assert.equal(await callWithKey(url, '/api/v1/tenants/demo', raw), 200);
  await page.getByRole('button', { name: 'I have stored the key' }).click();

  const row = page.getByRole('row', { name: /deploy-pipeline/ });
  await row.getByText('admin@example.com').waitFor(); // createdBy is the member's email
  assert.ok(!(await page.content()).includes(raw), 'the key is gone from the page');
  await page.getByRole('button', { name: 'Revoke deploy-pipeline' }).click();
  await page.getByRole('dialog').getByText('stops working at once').waitFor();
  await page.getByRole('button', { name: 'Revoke deploy-pipeline' }).last().click();
  await page.getByText('No API keys yet.').waitFor();
  assert.equal(await callWithKey(url, '/api/v1/tenants/demo', raw), 401);
});

test('rotate: the new key is shown once, the old key drains, then is revoked', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const old = await createApiKey(store, 'demo', { displayName: 'terraform', role: 'readonly', expiresAt: '2099-01-01T00:00:00Z' },
    { actor: 'operator', now: new Date() });
  assert.equal(await callWithKey(url, '/api/v1/whoami', old.key), 200);
  const page = await (await newContext(browser, t)).newPage();
  await firstSignIn(page, url, demo.email, demo.password);

  await page.getByRole('button', { name: 'Rotate terraform' }).click();
  await page.getByRole('button', { name: 'Create terraform-new' }).click();
  const fresh = await page.getByTestId('raw-key').inputValue();
  assert.equal(await callWithKey(url, '/api/v1/whoami', fresh), 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const lastUse = page.getByText(/last used:/);
  assert.doesNotMatch(await lastUse.innerText(), /never/, 'the old key was used, and the page says so');
  await page.getByRole('button', { name: 'Revoke old key…' }).click();
  await page.getByRole('button', { name: 'Yes, revoke terraform' }).click();
  await page.getByRole('row', { name: /terraform-new/ }).waitFor();
  assert.equal(await page.getByRole('row', { name: /^terraform ak-/ }).count(), 0);
  assert.equal(await callWithKey(url, '/api/v1/whoami', old.key), 401);
  assert.equal(await callWithKey(url, '/api/v1/whoami', fresh), 200);
  const listed = await store.apiKeys.listActive('demo');
  assert.equal(listed.find((k) => k.displayName === 'terraform-new')?.role, 'readonly', 'same role');
  await page.getByText(/^Revoked keys \(\d+\)$/).click();
  const retiredRow = page.getByRole('row', { name: new RegExp(`^terraform ${old.record.id}`) });
  await retiredRow.waitFor();
  assert.match(await retiredRow.innerText(), /rotated/);
  assert.ok((await retiredRow.innerText()).includes(demo.email), 'who revoked it');
  const retired = (await store.apiKeys.listRevoked('demo')).find((k) => k.id === old.record.id);
  assert.deepEqual([retired?.revokeReason, retired?.revokedBy], ['rotation', demo.email], 'the rotate flow says why, and who');
});

test('a leaked key: a banner on the keys page until an admin acknowledges it; the revoked list says where it was found', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const leaked = await createApiKey(store, 'demo', { displayName: 'nightly-deploy', role: 'admin' }, { actor: 'operator', now: new Date() });
  const source = 'https://github.com/octo/app/blob/1a2b3c/deploy.sh';
  const [finding] = await revokeLeakedKeys(store, [{ token: leaked.key, source }], LEAK_REPORTERS.github, { now: new Date() });
  assert.equal(finding?.outcome, 'revoked');
  const page = await (await newContext(browser, t)).newPage();
  await firstSignIn(page, url, demo.email, demo.password);

  const banner = page.getByRole('alert', { name: 'Leaked API keys' });
  await banner.getByText(`“nightly-deploy” (${leaked.record.id}) was found in public and revoked`).waitFor();
  assert.equal(await banner.getByRole('link', { name: source }).getAttribute('href'), source);
  assert.match(await banner.innerText(), /github-secret-scanning/);
  assert.deepEqual(await seriousA11yViolations(page), [], 'the banner is accessible');
  await banner.getByRole('button', { name: 'Acknowledge' }).click();
  await banner.waitFor({ state: 'detached' });
  const [key] = await store.apiKeys.listRevoked('demo');
  assert.deepEqual([key?.leakAcknowledgedBy, key?.leakSource], [demo.email, source]);

  await page.getByText(/^Revoked keys \(1\)$/).click();
  const row = page.getByRole('row', { name: new RegExp(`^nightly-deploy ${leaked.record.id}`) });
  assert.match(await row.innerText(), /leaked/);
  assert.equal(await row.getByRole('link', { name: source }).count(), 1, 'where it was found');
  await page.reload();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  assert.equal(await page.getByRole('alert', { name: 'Leaked API keys' }).count(), 0, 'acknowledged: no banner after a reload');
});

test('a readonly member sees no key controls, and the API refuses them anyway', { skip }, async (t) => {
  const { url, demo } = await startConsoleServer(t);
  const admin = await (await newContext(browser, t)).newPage();
  await firstSignIn(admin, url, demo.email, demo.password);
  await admin.getByRole('link', { name: 'Members' }).click();
  await admin.getByLabel('Email').fill('rita@example.com');
  await admin.getByRole('button', { name: 'Add member' }).click();
  const inviteUrl = await admin.getByLabel('Invite link', { exact: true }).inputValue();
  await admin.getByRole('button', { name: 'Done' }).click();
  await admin.getByRole('row', { name: /rita@example.com pending/ }).waitFor();

  const rita = await (await newContext(browser, t)).newPage();
  await rita.goto(inviteUrl);
  await rita.getByText('You were added to tenant demo').waitFor();
  await rita.getByLabel('Password (at least 12 characters)').fill(NEW_PASSWORD);
  await rita.getByRole('button', { name: 'Set password and sign in' }).click();
  await rita.getByText('only tenant admins can see, create and revoke API keys').waitFor();
  assert.equal(await rita.getByRole('button', { name: 'Create API key' }).count(), 0);
  assert.equal(await rita.getByRole('button', { name: /^Revoke/ }).count(), 0);
  await rita.getByRole('link', { name: 'Members' }).click();
  await rita.getByRole('row', { name: /rita@example.com/ }).waitFor();
  assert.equal(await rita.getByRole('button', { name: 'Add member' }).count(), 0);
  // Even a hand-made request with the session and its CSRF token is refused.
  const status = await rita.evaluate(async () => {
    const session = await (await fetch('/api/v1/session')).json() as { csrfToken: string };
    const res = await fetch('/api/v1/tenants/demo/apikeys', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-kupe-csrf': session.csrfToken },
      body: JSON.stringify({ displayName: 'sneaky', role: 'admin' }),
    });
    return res.status;
  });
  assert.equal(status, 403);
});

test('a cross-site form post with the session cookie is refused', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const evil = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form id="f" method="POST" enctype="text/plain" action="${url}/api/v1/tenants/demo/apikeys">
      <input name='{"displayName":"evil","role":"admin","x":"' value='"}'></form>
      <script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  t.after(() => evil.close());
  const evilPort = (evil.address() as { port: number }).port;

  const context = await newContext(browser, t);
  const page = await context.newPage();
  await firstSignIn(page, url, demo.email, demo.password);
  const attack = await context.newPage();
  const response = attack.waitForResponse((r) => r.url().endsWith('/apikeys') && r.request().method() === 'POST');
  await attack.goto(`http://localhost:${evilPort}/`); // another site: localhost is not 127.0.0.1
  assert.ok([401, 403, 415].includes((await response).status()), `status ${(await response).status()}`);
  assert.equal((await store.apiKeys.listActive('demo')).some((k) => k.displayName === 'evil'), false);
});

test('axe-core finds no serious or critical accessibility problem on any page', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  await createApiKey(store, 'demo', { displayName: 'ci', role: 'readonly', expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    { actor: 'operator', now: new Date() });
  const page = await (await newContext(browser, t, { bypassCSP: true })).newPage();
  const check = async (name: string) => {
    const violations = await seriousA11yViolations(page);
    assert.deepEqual(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], name);
  };
  await page.goto(url);
  await page.getByRole('heading', { name: 'Sign in to Kupe' }).waitFor();
  await check('sign in');
  await page.getByLabel('Email').fill(demo.email);
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await check('change password');
  await page.getByLabel('New password (at least 12 characters)').fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('row', { name: /ci/ }).waitFor();
  await check('api keys');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await check('create dialog');
  await page.getByLabel('Display name', { exact: true }).fill('a11y');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('raw-key').waitFor();
  await check('show once');
  await page.getByRole('button', { name: 'I have stored the key' }).click();
  for (const [link, heading] of [['Members', 'Members'], ['Webhooks', 'Webhooks'], ['Audit log', 'Audit log'], ['Settings', 'Tenant settings']]) {
    await page.getByRole('link', { name: link! }).click();
    await page.getByRole('heading', { name: heading! }).waitFor();
    await page.waitForLoadState('networkidle');
    await check(link!);
  }
});

test('the API reference renders in a browser under its security headers', { skip }, async (t) => {
  const { url } = await startConsoleServer(t);
  const page = await (await newContext(browser!, t)).newPage();
  const violations: string[] = [];
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  await page.goto(`${url}/api/v1/docs/`);
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Kupe' }).waitFor();
  await page.locator('.opblock-summary-path').first().waitFor();
  assert.deepEqual(violations, [], 'nothing the page needs is blocked');
});

test('a failed load says so and retries; a session that ends mid-use returns to sign-in', { skip }, async (t) => {
  const { url, demo, store } = await startConsoleServer(t);
  const context = await newContext(browser, t);
  const page = await context.newPage();
  await firstSignIn(page, url, demo.email, demo.password);

  // A failure that is not about the session: the page says what failed and offers Retry (never "Loading…" for ever).
  await page.route('**/api/v1/tenants/demo/members', (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'the database is unavailable', code: 'store_unavailable', requestId: 'r' }),
  }));
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByRole('alert').filter({ hasText: 'Could not load the members: the database is unavailable' }).waitFor();
  await page.unroute('**/api/v1/tenants/demo/members');
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('row', { name: /admin@example\.com/ }).waitFor();

  // The session ends on the server (as when it expires, or the password is reset): the next call returns to sign-in.
  const cookie = (await context.cookies()).find((c) => c.name === 'kupe_session')!;
  await signOut(store, cookie.value);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('status').filter({ hasText: 'Your session has ended: sign in again.' }).waitFor();
  await page.getByRole('heading', { name: 'Sign in to Kupe' }).waitFor();
  await page.getByLabel('Email').fill(demo.email);
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
});
