import { createTransport, type Transporter } from 'nodemailer';

/**
 * Kupe's mail server connection (KUPE_SMTP_URL): `smtp://` upgrades with STARTTLS, required unless the server
 * is on loopback (a local relay or test server); `smtps://` is TLS from the first byte. Certificates are
 * verified. Every step has a deadline, so a mail server that hangs costs a failed attempt (retried later),
 * never a stuck worker.
 */
export interface SmtpSettings {
  url: string;
  from: string;
  /** Connect, greeting and each command's answer. */
  timeoutMs: number;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export class SmtpSender {
  readonly #transport: Transporter;
  readonly #from: string;

  constructor(settings: SmtpSettings) {
    const url = new URL(settings.url);
    this.#transport = createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
      secure: url.protocol === 'smtps:',
      requireTLS: url.protocol === 'smtp:' && !LOOPBACK.has(url.hostname),
      ...(url.username !== '' && { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
      connectionTimeout: settings.timeoutMs, greetingTimeout: settings.timeoutMs, socketTimeout: settings.timeoutMs,
      pool: true, maxConnections: 2,
    });
    this.#from = settings.from;
  }

  /** Hands the mail to the server; throws with the server's or the network's words when it is not taken. */
  async send(mail: OutgoingMail): Promise<void> {
    await this.#transport.sendMail({ from: this.#from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  }

  close(): void {
    this.#transport.close();
  }
}
