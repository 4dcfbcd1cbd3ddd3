import type { MailRecord, Store } from './store.ts';
import { formatTimestamp } from './validation.ts';
import type { EventType } from './vocabulary.ts';

/**
 * Email (docs/notifications.md, "Email"). With KUPE_SMTP_URL set, the changes that people must hear of write
 * a mail to the outbox in their own transaction, exactly as they write webhook events; the mail worker
 * (src/mail-worker.ts) sends them. Every mail has a plain-text and an HTML body made from one description,
 * and holds no secret but the one-time link meant for its recipient.
 */

/** Email is on: links in mails point at the console's public address (KUPE_PUBLIC_URL). */
export interface MailOn {
  consoleUrl: string;
}

/** When something happened, and whether email is on: what a change needs to tell people of it. */
export interface NoticeContext {
  now: Date;
  /** Undefined: email is off (no KUPE_SMTP_URL); nothing is mailed. */
  mail?: MailOn | undefined;
}

/** A context with email on. */
export interface Mailing extends NoticeContext {
  mail: MailOn;
}

export type MailKind = 'invite' | 'password_reset' | 'apikey.expiring' | 'apikey.expired' | 'apikey.leaked'
  | 'admin.added' | 'admin.removed' | 'webhook.failing';

/**
 * Waits after each failed attempt to hand a mail over: about a day in all (like webhooks), then it is given
 * up. An invite or a reset link outlives a mail server's outage of a few hours.
 */
export const MAIL_RETRY_SECONDS = [10, 60, 300, 1800, 3600, 7200, 14_400, 28_800, 36_000];

/** A paragraph of text, or a link on a line of its own. */
type Block = string | { link: string };

interface Letter {
  subject: string;
  blocks: Block[];
  /** Why this person got it, under the body. */
  reason: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The plain-text and the HTML body of a letter. */
export function renderLetter(letter: Letter): { text: string; html: string } {
  const text = [...letter.blocks.map((b) => (typeof b === 'string' ? b : b.link)), '--', letter.reason].join('\n\n');
  const paragraphs = letter.blocks.map((b) => typeof b === 'string'
    ? `<p>${escapeHtml(b)}</p>`
    : `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.link)}</a></p>`);
  const html = '<!doctype html><html><head><meta charset="utf-8"><title>' + escapeHtml(letter.subject) + '</title></head>'
    + '<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em">'
    + paragraphs.join('') + `<hr><p style="color: #555; font-size: 0.9em">${escapeHtml(letter.reason)}</p></body></html>`;
  return { text, html };
}

function mailOf(kind: MailKind, to: string, tenant: string | undefined, letter: Letter, now: Date): MailRecord {
  return { kind, to, tenant, subject: letter.subject, ...renderLetter(letter), createdAt: formatTimestamp(now) };
}

/** Where a tenant's page in the console is. */
const consolePage = (mail: MailOn, tenant: string, page: 'keys' | 'members' | 'webhooks') =>
  `${mail.consoleUrl}/#/t/${encodeURIComponent(tenant)}/${page}`;

/** The invite, to the invited address (its link only there: never shown to the admin who added the member). */
export async function mailInvite(
  tx: Store, invite: { email: string; tenant: string; role: string; invitedBy: string; token: string; expiresAt: string }, ctx: Mailing,
): Promise<void> {
  await tx.mail.enqueue([mailOf('invite', invite.email, invite.tenant, {
    subject: `You are invited to ${invite.tenant} on Kupe`,
    blocks: [
      `${invite.invitedBy} added you (${invite.email}) to the tenant ${invite.tenant} as ${invite.role}.`,
      `Open this link to join. It works once, until ${invite.expiresAt}:`,
      { link: `${ctx.mail.consoleUrl}/#/invite/${invite.token}` },
      'If you did not expect this, ignore this mail: nothing happens until the link is opened.',
    ],
    reason: `Sent by Kupe to ${invite.email} because a tenant admin invited this address.`,
  }, ctx.now)]);
}

/** A password reset link, to the account's own address. */
export async function mailPasswordReset(tx: Store, email: string, token: string, expiresAt: string, ctx: Mailing): Promise<void> {
  await tx.mail.enqueue([mailOf('password_reset', email, undefined, {
    subject: 'Reset your Kupe password',
    blocks: [
      `Someone (we hope you) asked to reset the password of the Kupe account ${email}.`,
      `Open this link to choose a new password. It works once, until ${expiresAt}:`,
      { link: `${ctx.mail.consoleUrl}/#/reset/${token}` },
      'If it was not you, ignore this mail: your password stays as it is.',
    ],
    reason: `Sent by Kupe to ${email} because a password reset was asked for this account.`,
  }, ctx.now)]);
}

/** The tenant's admins who have joined: who is told of what happens to the tenant. */
async function adminsOf(tx: Store, tenant: string): Promise<string[]> {
  return (await tx.members.list(tenant)).filter((m) => m.role === 'admin' && !m.pending).map((m) => m.email);
}

async function mailAdmins(tx: Store, tenant: string, kind: MailKind, letter: Omit<Letter, 'reason'>, now: Date): Promise<void> {
  const reason = `Sent by Kupe to the admins of the tenant ${tenant}.`;
  await tx.mail.enqueue((await adminsOf(tx, tenant)).map((to) => mailOf(kind, to, tenant, { ...letter, reason }, now)));
}

const ROTATE = 'To replace a key without downtime: create a new key, put it where the old one is used (the CI secret), '
  + 'check that it works, then revoke the old one.';

const days = (n: number) => (n === 1 ? '1 day' : `${n} days`);

/**
 * The warnings a tenant's admins get for an event (called by recordEvent in the change's transaction):
 * a key expiring, expired or revoked as leaked, and an admin added, removed, promoted or demoted.
 */
export async function warnAdmins(tx: Store, tenant: string, type: EventType, data: Record<string, unknown>, ctx: Mailing): Promise<void> {
  const text = (field: string) => {
    const value = data[field];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  const keys = consolePage(ctx.mail, tenant, 'keys');
  const members = consolePage(ctx.mail, tenant, 'members');
  switch (type) {
    case 'apikey.expiring':
      return mailAdmins(tx, tenant, 'apikey.expiring', {
        subject: `Kupe: the API key "${text('displayName')}" of ${tenant} expires in ${days(Number(data.daysLeft))}`,
        blocks: [
          `The API key "${text('displayName')}" (${text('id')}, ${text('role')}) of the tenant ${tenant} expires at ${text('expiresAt')}. `
          + 'Whatever uses it will then be refused.', ROTATE, { link: keys },
        ],
      }, ctx.now);
    case 'apikey.expired':
      return mailAdmins(tx, tenant, 'apikey.expired', {
        subject: `Kupe: the API key "${text('displayName')}" of ${tenant} has expired`,
        blocks: [
          `The API key "${text('displayName')}" (${text('id')}, ${text('role')}) of the tenant ${tenant} expired at ${text('expiresAt')}: `
          + 'every request with it is refused. If something still needs access, create a new key for it.', { link: keys },
        ],
      }, ctx.now);
    case 'apikey.leaked': {
      const key = await tx.apiKeys.get(text('id'));
      const name = key ? `"${key.displayName}" (${text('id')})` : text('id');
      return mailAdmins(tx, tenant, 'apikey.leaked', {
        subject: `Kupe: the API key ${name} of ${tenant} was found in public and revoked`,
        blocks: [
          `${text('reportedBy')} reported the API key ${name} of the tenant ${tenant} as leaked`
          + `${data.foundAt === undefined ? '' : ` (found at ${text('foundAt')})`}. Kupe revoked it at once: it opens nothing any more.`,
          'What to do: create a new key for whatever used it, put it in place, and remove the old key from where it was found. '
          + 'Then acknowledge the leak on the keys page.', { link: keys },
        ],
      }, ctx.now);
    }
    case 'member.added':
      if (data.role !== 'admin') return;
      return mailAdmins(tx, tenant, 'admin.added', {
        subject: `Kupe: ${text('email')} was added as an admin of ${tenant}`,
        blocks: [`${text('addedBy')} added ${text('email')} to the tenant ${tenant} as an admin. `
          + 'Once they accept the invite, they can manage the tenant\'s keys and members.', { link: members }],
      }, ctx.now);
    case 'member.role_changed':
      if (data.role === data.previousRole || (data.role !== 'admin' && data.previousRole !== 'admin')) return;
      return mailAdmins(tx, tenant, data.role === 'admin' ? 'admin.added' : 'admin.removed', {
        subject: `Kupe: ${text('email')} is ${data.role === 'admin' ? 'now' : 'no longer'} an admin of ${tenant}`,
        blocks: [`${text('changedBy')} changed the role of ${text('email')} in the tenant ${tenant} from ${text('previousRole')} to ${text('role')}.`, { link: members }],
      }, ctx.now);
    case 'member.removed':
      if (data.role !== 'admin') return;
      return mailAdmins(tx, tenant, 'admin.removed', {
        subject: `Kupe: ${text('email')} is no longer an admin of ${tenant}`,
        blocks: [`${text('removedBy')} removed ${text('email')}, an admin, from the tenant ${tenant}.`, { link: members }],
      }, ctx.now);
    default:
      return;
  }
}

/** A webhook endpoint gave up after every retry: its tenant's admins are told (once, when it starts failing). */
export async function mailWebhookFailing(
  tx: Store, endpoint: { tenant: string; id: string; url: string }, error: string, ctx: Mailing,
): Promise<void> {
  await mailAdmins(tx, endpoint.tenant, 'webhook.failing', {
    subject: `Kupe: the webhook ${endpoint.url} of ${endpoint.tenant} is failing`,
    blocks: [
      `Kupe could not deliver an event to the webhook ${endpoint.id} (${endpoint.url}) of the tenant ${endpoint.tenant}, `
      + `after retrying for about a day. The last attempt: ${error}.`,
      'Later events are still sent to it. Fix the endpoint, then look at its deliveries in the console; '
      + 'the events that failed can be found in its delivery log.',
      { link: consolePage(ctx.mail, endpoint.tenant, 'webhooks') },
    ],
  }, ctx.now);
}

/** Whether the context has email on, for the functions above. */
export function mailing(ctx: NoticeContext): ctx is Mailing {
  return ctx.mail !== undefined;
}
