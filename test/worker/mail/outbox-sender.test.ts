/**
 * The sender against a real SMTP server, MongoDB and Redis: key delivery decrypts the key only
 * to send it; a mail server that is down delays mail and never loses it; an e-mail is sent once
 * even by two senders at once; a hopeless e-mail ends `failed`, visible.
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { RetryPolicy } from '../../../lib/mail/delivery-retry.js';
import { EMAIL_KINDS, type EmailRequest } from '../../../lib/mail/email-request.js';
import { MongoEmailOutbox } from '../../../lib/store/mongo-email-outbox.js';
import { OutboxSender } from '../../../worker/mail/outbox-sender.js';
import { createSmtpTransport } from '../../../worker/mail/smtp-transport.js';
import { startKeyward, type KeywardFixture } from '../../support/keyward-fixture.js';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-test-server.js';

const RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 60_000, maxDelayMs: 600_000 };
const T0 = new Date('2026-03-01T10:00:00Z');

let fixture: KeywardFixture;
let outbox: MongoEmailOutbox;
let now: Date;
let logs: string[];

beforeEach(async () => {
  fixture = await startKeyward();
  outbox = new MongoEmailOutbox({ db: fixture.db });
  await outbox.ensureIndexes();
  now = T0;
  logs = [];
});
afterEach(async () => {
  await fixture.close();
});

function sender(smtp: SmtpTestServer, options: { concurrency?: number; outbox?: MongoEmailOutbox } = {}): OutboxSender & { close(): void } {
  const transport = createSmtpTransport({ url: smtp.url, maxConnections: options.concurrency ?? 1, timeoutMs: 5_000 });
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const instance = new OutboxSender({
    outbox: options.outbox ?? outbox,
    licenses: fixture.keyward.licenses,
    plans: fixture.keyward.plans,
    transport,
    from: 'Keyward Licenses <licenses@keyward.test>',
    retry: RETRY,
    leaseMs: 120_000,
    concurrency: options.concurrency ?? 1,
    logger,
    clock: () => now,
  });
  return Object.assign(instance, { close: () => transport.close() });
}

async function issue(customerId = 'cus_1'): Promise<{ id: string; key: string }> {
  const issued = await fixture.keyward.licenses.issue({ planId: 'pro', customerId, periodEndsAt: new Date('2027-03-01T00:00:00Z') });
  if (!issued.ok) throw new Error(issued.refusal.message);
  return { id: issued.value.record.license.id, key: issued.value.key };
}

function keyDelivery(licenseId: string, to = 'ada@example.com', n = 1): EmailRequest {
  return { kind: 'key_delivery', to, licenseId, customerId: 'cus_1', dedupeKey: `key_delivery:${licenseId}:${n}`, data: { productName: 'TextOwl' } };
}

describe('OutboxSender', () => {
  it('delivers a key by e-mail, decrypting it only to send it: the outbox and the logs never hold it', async () => {
    const smtp = await startSmtpServer();
    const license = await issue();
    const { id } = await outbox.enqueue(keyDelivery(license.id), now);
    const mailer = sender(smtp);

    expect(await mailer.deliverDue()).toEqual({ sent: 1, retried: 0, failed: 0, leaseLost: 0 });
    mailer.close();

    const [mail] = await smtp.waitFor(1);
    expect(mail).toMatchObject({ envelopeTo: ['ada@example.com'], subject: 'Your TextOwl license key', messageId: `<${id}@keyward.test>` });
    expect(mail!.from).toContain('licenses@keyward.test');
    expect(mail!.text).toContain(license.key);
    expect(mail!.html).toContain(license.key);
    expect(await outbox.get(id)).toMatchObject({ status: 'sent', attempts: 1, sentAt: now, lastError: null });
    const stored = JSON.stringify(await outbox.collection.find().toArray());
    expect(stored).not.toContain(license.key);
    expect(logs.join('')).toContain(id);
    expect(logs.join('')).not.toContain(license.key);
  });

  it('sends every kind of e-mail, the key only in the key delivery', async () => {
    const smtp = await startSmtpServer();
    const license = await issue();
    for (const kind of EMAIL_KINDS) await outbox.enqueue({ ...keyDelivery(license.id), kind, dedupeKey: `${kind}:1` }, now);
    const mailer = sender(smtp);
    expect((await mailer.deliverDue()).sent).toBe(EMAIL_KINDS.length);
    mailer.close();
    const mails = await smtp.waitFor(EMAIL_KINDS.length);
    const withKey = mails.filter((mail) => mail.text.includes(license.key) || mail.html.includes(license.key));
    expect(withKey.map((mail) => mail.subject)).toEqual(['Your TextOwl license key']);
    expect(new Set(mails.map((mail) => mail.subject)).size).toBe(EMAIL_KINDS.length);
  });

  it('when SMTP is down, delays mail with backoff and loses nothing; once it is up, delivers each e-mail exactly once', async () => {
    const smtp = await startSmtpServer({ down: true });
    const license = await issue();
    const mailer = sender(smtp);
    // Provisioning is never blocked: enqueueing does not touch the mail server.
    const { id } = await outbox.enqueue(keyDelivery(license.id), now);

    expect(await mailer.deliverDue()).toMatchObject({ sent: 0, retried: 1 });
    expect(await outbox.get(id)).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: new Date(T0.getTime() + 60_000) });
    expect((await outbox.get(id))?.lastError).toMatch(/ECONNREFUSED|ECONNECTION/);
    // Not due yet: nothing is tried.
    now = new Date(T0.getTime() + 59_000);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0, leaseLost: 0 });
    now = new Date(T0.getTime() + 60_000);
    expect(await mailer.deliverDue()).toMatchObject({ retried: 1 });
    expect(await outbox.get(id)).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: new Date(now.getTime() + 120_000) });

    await smtp.start();
    now = new Date(now.getTime() + 120_000);
    expect(await mailer.deliverDue()).toMatchObject({ sent: 1 });
    now = new Date(now.getTime() + 3_600_000);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0, leaseLost: 0 });
    mailer.close();

    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.text).toContain(license.key);
    expect(await outbox.get(id)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('marks an e-mail failed, with its error, after the configured attempts', async () => {
    const smtp = await startSmtpServer({ down: true });
    const license = await issue();
    const mailer = sender(smtp);
    const { id } = await outbox.enqueue(keyDelivery(license.id), now);
    for (let attempt = 1; attempt <= RETRY.maxAttempts; attempt++) {
      await mailer.deliverDue();
      now = new Date(now.getTime() + RETRY.maxDelayMs);
    }
    mailer.close();
    expect(await outbox.get(id)).toMatchObject({ status: 'failed', attempts: RETRY.maxAttempts, lastError: expect.stringMatching(/ECONN/) });
    expect((await outbox.list({ status: 'failed', limit: 10 })).data.map((email) => email._id)).toEqual([id]);
    expect(await mailer.deliverDue()).toEqual({ sent: 0, retried: 0, failed: 0, leaseLost: 0 });
  });

  it('gives up at once on a recipient the server refuses, and on a license that no longer exists', async () => {
    const smtp = await startSmtpServer({ refuse: ['nobody@example.com'] });
    const license = await issue();
    const refused = await outbox.enqueue(keyDelivery(license.id, 'nobody@example.com'), now);
    const orphan = await outbox.enqueue(keyDelivery('lic_01jzzzzzzzzzzzzzzzzzzzzzzz'), now);
    const mailer = sender(smtp);
    expect(await mailer.deliverDue()).toMatchObject({ sent: 0, failed: 2 });
    mailer.close();
    expect(await outbox.get(refused.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/^EENVELOPE: .*550/) });
    expect(await outbox.get(orphan.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringContaining('not found') });
    expect(smtp.received).toHaveLength(0);
  });

  it('never sends one e-mail twice when two senders drain the outbox at once', async () => {
    const smtp = await startSmtpServer();
    const license = await issue();
    const count = 40;
    for (let n = 0; n < count; n++) await outbox.enqueue(keyDelivery(license.id, `user${n}@example.com`, n), now);
    // Two senders as two processes would be: each its own outbox handle and SMTP pool.
    const first = sender(smtp, { concurrency: 3 });
    const second = sender(smtp, { concurrency: 3, outbox: new MongoEmailOutbox({ db: fixture.db }) });
    const [a, b] = await Promise.all([first.deliverDue(), second.deliverDue()]);
    first.close();
    second.close();

    expect(a.sent + b.sent).toBe(count);
    const mails = await smtp.waitFor(count);
    expect(mails).toHaveLength(count);
    expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(count);
    expect(await outbox.collection.countDocuments({ status: 'sent', attempts: 1 })).toBe(count);
  });
});
