import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { until } from '../helpers.ts';

/**
 * Mailpit (https://mailpit.axllent.org), a real SMTP server with an HTTP API to read what arrived: the tests'
 * mail server. .ci/run installs it (`go install github.com/axllent/mailpit@v1.33.1`); elsewhere the tests that
 * need it are skipped when it is missing (never in CI).
 */
const CANDIDATES = [
  process.env.KUPE_MAILPIT,
  join(process.env.GOPATH ?? join(homedir(), 'go'), 'bin', 'mailpit'),
  ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'mailpit')),
].filter((path): path is string => path !== undefined && path !== '');

export const MAILPIT = CANDIDATES.find((path) => existsSync(path));
export const mailpitMissing = MAILPIT === undefined && process.env.CI !== 'true'
  ? 'needs Mailpit (go install github.com/axllent/mailpit@v1.33.1)' : false;

export interface Message {
  ID: string;
  Subject: string;
  To: { Address: string }[];
  From: { Address: string; Name: string };
  /** Full messages only (mail()). */
  Text?: string;
  HTML?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class Mailpit {
  readonly smtpPort: number;
  readonly httpPort: number;
  #child: ChildProcess | undefined;

  private constructor(smtpPort: number, httpPort: number) {
    this.smtpPort = smtpPort;
    this.httpPort = httpPort;
  }

  /** A Mailpit of the test's own on loopback, stopped after it. */
  static async start(t: TestContext): Promise<Mailpit> {
    const mailpit = new Mailpit(await freePort(), await freePort());
    await mailpit.restart();
    t.after(() => mailpit.stop());
    return mailpit;
  }

  get smtpUrl(): string {
    return `smtp://127.0.0.1:${this.smtpPort}`;
  }

  /** Starts it (again, on the same ports: a mail server back after an outage, its mailbox empty). */
  async restart(): Promise<void> {
    if (!MAILPIT) throw new Error('Mailpit is not installed (go install github.com/axllent/mailpit@v1.33.1)');
    this.#child = spawn(MAILPIT, ['--smtp', `127.0.0.1:${this.smtpPort}`, '--listen', `127.0.0.1:${this.httpPort}`, '--quiet'], { stdio: 'ignore' });
    await until(async () => (await fetch(`http://127.0.0.1:${this.httpPort}/api/v1/messages`).catch(() => undefined))?.ok === true, 'Mailpit to answer');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async #get<T>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/api/v1/${path}`);
    if (!res.ok) throw new Error(`Mailpit ${path}: ${res.status}`);
    return res.json() as Promise<T>;
  }

  /** Every message that arrived (summaries), the newest first. */
  async messages(): Promise<Message[]> {
    return (await this.#get<{ messages: Message[] }>('messages?limit=1000')).messages;
  }

  /** One message in full: its plain-text and HTML bodies too. */
  mail(id: string): Promise<Message & { Text: string; HTML: string }> {
    return this.#get(`message/${id}`);
  }

  /** The messages to `address`, in full, once at least `count` have arrived. */
  async mailTo(address: string, count = 1): Promise<(Message & { Text: string; HTML: string })[]> {
    let found: Message[] = [];
    await until(async () => {
      found = (await this.messages()).filter((m) => m.To.some((to) => to.Address === address));
      return found.length >= count;
    }, `${count} mail(s) to ${address}`);
    return Promise.all(found.reverse().map((m) => this.mail(m.ID)));
  }
}
