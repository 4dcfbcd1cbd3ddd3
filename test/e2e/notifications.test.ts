import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { until } from '../helpers.ts';
import { webhookReceiver } from '../receiver.ts';
import { Mailpit, mailpitMissing } from '../mail/mailpit.ts';
import { firstSignIn, launchBrowser, newContext, NO_BROWSER, seriousA11yViolations, startConsoleServer, submitSignIn } from './console-helpers.ts';

let browser: Browser;
before(async () => { if (!NO_BROWSER) browser = await launchBrowser(); });
after(() => browser?.close());
const skip = NO_BROWSER;
const PUBLIC_URL = 'https://kupe.example.com';

test('webhooks in the console: add an endpoint (secret shown once), send a test event it can verify, read the deliveries, turn it off, delete it', { skip }, async (t) => {
  const hook = await webhookReceiver(t);
  hook.state.status = 204;
  const got = hook.requests;
  const hookUrl = hook.url;

  const { url, demo } = await startConsoleServer(t, { webhookAllowPrivate: true });
  const page = await (await newContext(browser, t, { bypassCSP: true })).newPage();
  await firstSignIn(page, url, demo.email, demo.password);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByText('No webhooks yet.').waitFor();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByLabel('Endpoint URL').fill(hookUrl);
  await page.getByRole('checkbox', { name: 'member.removed' }).uncheck();
  await page.getByRole('button', { name: 'Add endpoint' }).last().click();
  const secret = await page.getByTestId('webhook-secret').inputValue();
  assert.match(secret, /^whsec_/);
  assert.deepEqual((await seriousA11yViolations(page)).map((v) => v.id), [], 'the secret dialog');
  await page.getByRole('button', { name: 'I have stored the secret' }).click();
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  const row = page.getByRole('row', { name: new RegExp(hookUrl.replace(/[./]/g, '\\$&')) });
  await row.getByText('member.role_changed').waitFor();
  assert.equal(await row.getByText('member.removed').count(), 0, 'the events chosen');

  await page.getByRole('button', { name: `Send a test event to ${hookUrl}` }).click();
  await page.getByRole('status').filter({ hasText: 'A test event is on its way' }).waitFor();
  await until(() => got.length === 1, 'the test event to arrive');
  const verified = new Webhook(secret).verify(got[0]!.body, got[0]!.headers as Record<string, string>) as { type: string };
  assert.equal(verified.type, 'webhook.test', 'signed with the secret the console showed');

  await page.getByRole('button', { name: `Deliveries of ${hookUrl}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('row', { name: /webhook\.test/ }).waitFor();
  await dialog.getByRole('button', { name: 'Refresh' }).click();
  await dialog.getByRole('row', { name: /webhook\.test.*delivered.*HTTP 204/ }).waitFor();
  assert.deepEqual((await seriousA11yViolations(page)).map((v) => v.id), [], 'the deliveries dialog');
  await dialog.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('button', { name: `Turn off ${hookUrl}` }).click();
  await row.getByText('off').waitFor();
  await page.getByRole('button', { name: `Delete ${hookUrl}` }).click();
  await page.getByRole('dialog').getByText('Kupe stops sending it events at once').waitFor();
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Cancel', 'the destructive button is not the one Enter presses');
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No webhooks yet.').waitFor();
});

test('email in the console: an invite is mailed, never shown; the invitee joins from the mail; "forgot password" resets by mail', { skip: skip || mailpitMissing }, async (t) => {
  const mailpit = await Mailpit.start(t);
  const { url, demo } = await startConsoleServer(t, { mail: { smtpUrl: mailpit.smtpUrl, from: 'Kupe <kupe@kupe.test>', publicUrl: PUBLIC_URL } });
  const page = await (await newContext(browser, t)).newPage();
  await firstSignIn(page, url, demo.email, demo.password);
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByLabel('Email').fill('newcomer@example.com');
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByRole('dialog', { name: 'Invite sent' }).getByText('newcomer@example.com').waitFor();
  assert.ok(!(await page.content()).includes('#/invite/'), 'no link on the admin\'s page');
  await page.getByRole('button', { name: 'Done' }).click();
  await mailpit.mailTo('newcomer@example.com'); // the first has arrived: the second, below, is the latest
  await page.getByRole('button', { name: 'Send the invite again to newcomer@example.com' }).click();
  await page.getByRole('dialog', { name: 'Invite sent' }).waitFor();
  assert.ok(!(await page.content()).includes('#/invite/'), 'nor after sending again');
  await page.getByRole('button', { name: 'Done' }).click();

  // The newcomer opens the latest mail's link (this server stands in for the public address).
  const mails = await mailpit.mailTo('newcomer@example.com', 2);
  const link = /https:\/\/kupe\.example\.com(\/#\/invite\/[A-Za-z0-9_-]{43})/.exec(mails[1]!.Text)![1]!;
  const newcomer = await (await newContext(browser, t)).newPage();
  await newcomer.goto(`${url}${link}`);
  await newcomer.getByLabel('Password (at least 12 characters)').fill('newcomer passphrase');
  await newcomer.getByRole('button', { name: 'Set password and sign in' }).click();
  await newcomer.getByRole('heading', { name: 'API keys' }).waitFor();

  // Forgot password, from the sign-in page.
  const forgetful = await (await newContext(browser, t)).newPage();
  await forgetful.goto(url);
  await forgetful.getByRole('link', { name: 'Forgot password?' }).click();
  await forgetful.getByLabel('Email').fill('newcomer@example.com');
  await forgetful.getByRole('button', { name: 'Mail me a link' }).click();
  await forgetful.getByRole('status').filter({ hasText: 'a link to reset its password is on its way' }).waitFor();
  assert.deepEqual((await seriousA11yViolations(forgetful)).map((v) => v.id), [], 'the forgot-password page');
  const [reset] = (await mailpit.mailTo('newcomer@example.com', 3)).slice(2);
  const resetLink = /https:\/\/kupe\.example\.com(\/#\/reset\/[A-Za-z0-9_-]{43})/.exec(reset!.Text)![1]!;
  await forgetful.goto(`${url}${resetLink}`);
  await forgetful.getByText('For the Kupe account newcomer@example.com').waitFor();
  await forgetful.getByLabel('New password (at least 12 characters)').fill('a different passphrase');
  await forgetful.getByLabel('New password again').fill('a different passphrase');
  await forgetful.getByRole('button', { name: 'Save password' }).click();
  await forgetful.getByRole('status').filter({ hasText: 'Your password is changed' }).waitFor();
  await submitSignIn(forgetful, url, 'newcomer@example.com', 'a different passphrase');
  await forgetful.getByRole('heading', { name: 'API keys' }).waitFor();
});
