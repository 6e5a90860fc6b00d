/**
 * A real SMTP server for tests (the `smtp-server` package) on a loopback port, recording every
 * message it accepts, parsed with `mailparser`. It can be stopped and started again on the same
 * port, to play a mail server that goes down and comes back.
 */
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { onTestFinished } from 'vitest';

/** A message the server accepted. */
export interface ReceivedMail {
  readonly envelopeTo: string[];
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly messageId: string;
  /** The message as it came over the wire. */
  readonly raw: string;
}

/** Options for {@link startSmtpServer}. */
export interface SmtpTestServerOptions {
  /** Port to listen on. Default: a free one. */
  readonly port?: number;
  /** Recipients refused with `550` at RCPT TO. */
  readonly refuse?: readonly string[];
  /** Start stopped (the port is reserved but nothing listens), to play a server that is down. */
  readonly down?: boolean;
}

/** A running (or stopped) test SMTP server. */
export interface SmtpTestServer {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly received: ReceivedMail[];
  /** Resolves once `count` messages have arrived. */
  waitFor(count: number): Promise<ReceivedMail[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts an SMTP server for the current test; it stops when the test ends. */
export async function startSmtpServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const port = options.port ?? (await freePort());
  const refused = new Set(options.refuse ?? []);
  const received: ReceivedMail[] = [];
  const waiters: Array<{ count: number; resolve: (mails: ReceivedMail[]) => void }> = [];
  let server: SMTPServer | null = null;

  const record = (mail: ReceivedMail): void => {
    received.push(mail);
    for (const waiter of [...waiters]) {
      if (received.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(received.slice());
      }
    }
  };

  const start = async (): Promise<void> => {
    if (server) return;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      // Stopping drops pooled client connections at once, as a crashed server would.
      closeTimeout: 100,
      logger: false,
      onRcptTo(address, _session, callback) {
        if (refused.has(address.address)) {
          const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
          callback(error);
          return;
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((parsed) => {
              const to = Array.isArray(parsed.to) ? parsed.to.map((address) => address.text).join(', ') : (parsed.to?.text ?? '');
              record({
                envelopeTo: session.envelope.rcptTo.map((address) => address.address),
                from: parsed.from?.text ?? '',
                to,
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: typeof parsed.html === 'string' ? parsed.html : '',
                messageId: parsed.messageId ?? '',
                raw,
              });
              callback();
            })
            .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
        });
      },
    });
    smtp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(port, '127.0.0.1', () => resolve());
    });
    server = smtp;
  };

  const stop = async (): Promise<void> => {
    const smtp = server;
    server = null;
    if (smtp) await new Promise<void>((resolve) => smtp.close(() => resolve()));
  };

  if (!options.down) await start();
  onTestFinished(stop);
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    waitFor: (count) => (received.length >= count ? Promise.resolve(received.slice()) : new Promise((resolve) => waiters.push({ count, resolve }))),
    start,
    stop,
  };
}
