/**
 * E-mails sent per second to a local SMTP server (issue 4), beside a baseline from the same run:
 * the same messages sent straight through nodemailer's pool, with no outbox. The outbox path adds
 * per e-mail: an atomic claim, a license read, a key decryption, rendering and the settle write.
 * MongoDB-wire and Redis are the embedded ones; the SMTP server (`smtp-server`) runs in this
 * process and discards what it receives.
 *
 * Alone: `node --import tsx bench/mail.bench.ts` (BENCH_MAIL_COUNT e-mails, default 1,000).
 */
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';

import { startLocalServices } from '../embedded/local-services.js';
import { renderEmail } from '../lib/mail/render-email.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { MongoEmailOutbox } from '../lib/store/mongo-email-outbox.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import { DEFAULT_MAIL_CONFIG } from '../worker/mail/mail-config.js';
import { OutboxSender } from '../worker/mail/outbox-sender.js';
import { createSmtpTransport } from '../worker/mail/smtp-transport.js';

/** One row of the printed table. */
export interface MailBenchRow {
  readonly benchmark: string;
  readonly 'e-mails/s': string;
  readonly ratio: string;
}

const CONCURRENCY = 4;

async function startSink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as { port: number };
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const rate = (count: number, ms: number) => (count * 1000) / ms;
const round = (n: number) => Math.round(n).toLocaleString('en-US');

/** Runs the mail benchmark with `count` e-mails per measurement. */
export async function benchMail(count = 1_000): Promise<MailBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const mongo = await new MongoClient(services.mongoUrl).connect();
  const sink = await startSink();
  try {
    const db = mongo.db('bench_mail');
    await db.dropDatabase();
    const keyward = await createKeyward({
      db,
      plans: readPlanCatalogue(DEFAULT_PLANS_FILE),
      secrets: { digest: 'bench-digest-secret-0123456789abcdefghijklmnop', encryption: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90' },
    });
    const planId = keyward.plans.plans[0]?.id ?? 'pro';
    const issued = await keyward.licenses.issue({ planId });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const { record, key } = issued.value;
    const licenseId = record.license.id;

    // Baseline: the same rendered message straight through the SMTP pool.
    const direct = createSmtpTransport({ url: sink.url, maxConnections: CONCURRENCY });
    const rendered = renderEmail({
      kind: 'key_delivery',
      key,
      data: {},
      license: { id: licenseId, product: 'default', planId, planName: planId, keyMask: record.keyMask, status: 'active', periodEndsAt: null, trialEndsAt: null, suspensionReason: null, revocationReason: null },
    });
    const directStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const n = next++;
          await direct.send({ from: 'bench@keyward.test', to: `user${n}@example.com`, messageId: `<direct-${n}@keyward.test>`, ...rendered });
        }
      }),
    );
    const directMs = performance.now() - directStart;
    direct.close();

    const outbox = new MongoEmailOutbox({ db });
    await outbox.ensureIndexes();
    const now = new Date();
    const enqueueStart = performance.now();
    for (let n = 0; n < count; n++) {
      await outbox.enqueue({ kind: 'key_delivery', to: `user${n}@example.com`, licenseId, customerId: null, dedupeKey: `bench:${n}` }, now);
    }
    const enqueueMs = performance.now() - enqueueStart;

    const transport = createSmtpTransport({ url: sink.url, maxConnections: CONCURRENCY });
    const sender = new OutboxSender({
      outbox,
      licenses: keyward.licenses,
      plans: keyward.plans,
      transport,
      from: 'bench@keyward.test',
      retry: DEFAULT_MAIL_CONFIG.retry,
      leaseMs: DEFAULT_MAIL_CONFIG.leaseMs,
      concurrency: CONCURRENCY,
      logger: pino({ level: 'silent' }),
    });
    const sendStart = performance.now();
    const tally = await sender.deliverDue(count + 1);
    const sendMs = performance.now() - sendStart;
    transport.close();
    if (tally.sent !== count || sink.received() !== 2 * count) throw new Error(`sent ${tally.sent} of ${count}; the server received ${sink.received()}`);
    await keyward.close();
    await db.dropDatabase();

    const baseline = rate(count, directMs);
    return [
      { benchmark: `nodemailer pool, ${CONCURRENCY} connections (baseline)`, 'e-mails/s': round(baseline), ratio: '1.00' },
      { benchmark: `outbox sender, ${CONCURRENCY} at once (claim, decrypt, render, send, settle)`, 'e-mails/s': round(rate(count, sendMs)), ratio: (rate(count, sendMs) / baseline).toFixed(2) },
      { benchmark: 'outbox enqueue (one insert each, sequential)', 'e-mails/s': round(rate(count, enqueueMs)), ratio: (rate(count, enqueueMs) / baseline).toFixed(2) },
    ];
  } finally {
    await sink.close();
    await mongo.close();
    await services.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  console.table(await benchMail(Number(process.env['BENCH_MAIL_COUNT'] ?? 1_000)));
}
