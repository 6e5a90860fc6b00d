/**
 * {@link MailTransport} over SMTP with nodemailer: a small pool of connections, short timeouts
 * (so an unreachable server fails an attempt quickly, well within the sender's lease), and the
 * error classification that decides between retrying and giving up.
 */
import { createTransport } from 'nodemailer';

import type { FailureKind } from '../../lib/mail/delivery-retry.js';
import type { MailTransport, OutgoingMail } from './mail-transport.js';

/** Options for {@link createSmtpTransport}. */
export interface SmtpTransportOptions {
  /** `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). Required. */
  readonly url: string;
  /** Connections kept open. Default 4. */
  readonly maxConnections?: number;
  /** Timeout for connecting, the greeting and each socket read, in ms. Default 15,000. */
  readonly timeoutMs?: number;
}

/** Connects lazily: nothing is opened until the first message. */
export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const transport = createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections ?? 4,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // Never write message bodies (which hold keys) to a log.
    logger: false,
    debug: false,
  });
  return {
    async send(mail: OutgoingMail) {
      await transport.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
    },
    close() {
      transport.close();
    },
  };
}

/**
 * Whether a send error can go away by itself. Permanent: the server refused the recipient or
 * the envelope with a 5xx reply (a bad address does not get better). Everything else (network
 * errors, timeouts, 4xx replies, authentication failures an operator can fix) is transient.
 */
export function classifySendError(error: unknown): FailureKind {
  if (typeof error !== 'object' || error === null) return 'transient';
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  if (code === 'EENVELOPE' && (typeof responseCode !== 'number' || responseCode >= 500)) return 'permanent';
  if (code === 'EMESSAGE' && typeof responseCode === 'number' && responseCode >= 500) return 'permanent';
  return 'transient';
}
