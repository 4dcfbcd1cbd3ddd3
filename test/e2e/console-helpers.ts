import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { bootstrapEmptyStore } from '../../src/domain/bootstrap.ts';
import { buildApp } from '../../src/http/app.ts';
import { CONSOLE_DIR } from '../../src/server.ts';
import { appDeps, openTestStore, type TestConfig } from '../helpers.ts';

export const CHROMIUM = process.env.KUPE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Without Chromium the browser tests are skipped, saying how to get it, so that
 * `npm test` works on a machine that has none; in CI (CI=true) they never are.
 */
export const NO_BROWSER: string | false = existsSync(CHROMIUM) || process.env.CI === 'true'
  ? false
  : `no browser at ${CHROMIUM}: apt-get install chromium (or set KUPE_CHROMIUM) to run the console tests`;

// As root in a sandbox, with no network but loopback: no sandbox, no background fetches.
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/**
 * The real server (API + built console) on a loopback port, over a fresh SQLite file, bootstrapped like a first
 * start, with its webhook and mail workers running (as src/server.ts runs them).
 */
export async function startConsoleServer(t: TestContext, config: Partial<TestConfig> = {}) {
  const { store } = await openTestStore(t);
  const demo = (await bootstrapEmptyStore(store, new Date()))!;
  const deps = await appDeps({ config: { rateLimit: 10_000, ...config }, store, consoleDir: CONSOLE_DIR });
  const { app } = await buildApp(deps);
  deps.webhookWorker.start();
  deps.mailWorker?.start();
  t.after(async () => {
    await app.close();
    await deps.webhookWorker.stop();
    await deps.mailWorker?.stop();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, store, demo };
}

export const NEW_PASSWORD = 'a long and private passphrase';

/** Opens the console and submits the sign-in form. */
export async function submitSignIn(page: Page, url: string, email: string, password: string) {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in as the demo admin, through the forced password change on first sign-in. */
export async function firstSignIn(page: Page, url: string, email: string, oneTimePassword: string) {
  await submitSignIn(page, url, email, oneTimePassword);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  // The one-time password just typed is not asked for again (the page sends it): test/e2e/console.test.ts.
  assert.equal(await page.getByLabel('One-time password').count(), 0, 'the one-time password is not asked for twice');
  await page.getByLabel('New password (at least 12 characters)').fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
}

export async function signIn(page: Page, url: string, email: string, password: string) {
  await submitSignIn(page, url, email, password);
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
}

/** Calls the API as a pipeline would, outside the browser. */
export async function callWithKey(url: string, path: string, key: string) {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return res.status;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe;
    return axe.run(document);
  });
  if (result.passes.length === 0) throw new Error('axe checked nothing: is the page empty?');
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function newContext(browser: Browser, t: TestContext, options: { bypassCSP?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ bypassCSP: options.bypassCSP ?? false });
  t.after(() => context.close());
  return context;
}
