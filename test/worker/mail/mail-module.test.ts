/**
 * The `mail` worker module as the worker runs it, on the real Redis, MongoDB and an SMTP server:
 * a wake job or the scheduled sweep delivers what the outbox holds; without SMTP_URL mail waits;
 * poison jobs are not retried; two workers at once send each e-mail once.
 */
import { Writable } from 'node:stream';

import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { EmailRequest } from '../../../lib/mail/email-request.js';
import { MongoEmailOutbox } from '../../../lib/store/mongo-email-outbox.js';
import { DEFAULT_MAIL_CONFIG, type MailConfig } from '../../../worker/mail/mail-config.js';
import { MAIL_QUEUE } from '../../../worker/mail/mail-jobs.js';
import { mailModule } from '../../../worker/mail/mail-module.js';
import { MailWake } from '../../../worker/mail/mail-wake.js';
import { createWorkerOutbox } from '../../../worker/mail/worker-outbox.js';
import { startWorker } from '../../../worker/main.js';
import { WORKER_MODULES } from '../../../worker/modules.js';
import { redisUrl } from '../../setup/services.js';
import { startSmtpServer } from '../../support/smtp-test-server.js';
import { startTestWorker, testWorkerConfig } from '../../support/worker-fixture.js';

function mailConfig(smtpUrl: string | null, overrides: Partial<MailConfig> = {}): MailConfig {
  return { ...DEFAULT_MAIL_CONFIG, smtpUrl, from: 'Licenses <licenses@keyward.test>', sweepIntervalMs: 500, ...overrides };
}

function request(licenseId: string, n: number): EmailRequest {
  return { kind: 'key_delivery', to: `user${n}@example.com`, licenseId, customerId: null, dedupeKey: `key_delivery:${licenseId}:${n}` };
}

async function issueLicense(worker: Awaited<ReturnType<typeof startTestWorker>>): Promise<{ id: string; key: string }> {
  const issued = await worker.context.keyward.licenses.issue({ planId: 'pro' });
  if (!issued.ok) throw new Error(issued.refusal.message);
  return { id: issued.value.record.license.id, key: issued.value.key };
}

/**
 * Resolves once the worker has no mail job waiting or running (its start-up sweep and wake are
 * done), so that what follows can only be delivered by a new wake job.
 */
async function idle(worker: Awaited<ReturnType<typeof startTestWorker>>): Promise<void> {
  const queue = new Queue(MAIL_QUEUE, { connection: worker.context.redis, prefix: worker.config.queuePrefix });
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    if (Object.values(counts).every((count) => count === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A producer of `{mail}` jobs, as the server holds one. */
function producer(prefix: string): MailWake {
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const wake = new MailWake({ connection, prefix });
  onTestFinished(async () => {
    await wake.close();
    await connection.quit();
  });
  return wake;
}

describe('the mail module', () => {
  it('is one of the production worker modules', () => {
    expect(WORKER_MODULES).toContain(mailModule);
  });

  it('delivers an e-mail as soon as a wake job says it was enqueued', async () => {
    const smtp = await startSmtpServer();
    // A sweep interval far longer than the test: only the wake job can deliver in time.
    const worker = await startTestWorker({ mail: mailConfig(smtp.url, { sweepIntervalMs: 3_600_000 }) }, [mailModule]);
    const license = await issueLicense(worker);
    await idle(worker);
    const wake = producer(worker.config.queuePrefix);
    const outbox = new MongoEmailOutbox({ db: worker.context.db, onEnqueued: (id) => wake.wake(id) });
    const { id } = await outbox.enqueue(request(license.id, 1), new Date());

    const [mail] = await smtp.waitFor(1);
    expect(mail!.text).toContain(license.key);
    expect(mail!.messageId).toBe(`<${id}@keyward.test>`);
  });

  it('wakes the sender for e-mails that another worker module enqueues through createWorkerOutbox', async () => {
    const smtp = await startSmtpServer();
    const worker = await startTestWorker({ mail: mailConfig(smtp.url, { sweepIntervalMs: 3_600_000 }) }, [mailModule]);
    const license = await issueLicense(worker);
    await idle(worker);
    const { outbox, close } = createWorkerOutbox(worker.context, 'billing');
    onTestFinished(close);
    await outbox.enqueue(request(license.id, 7), new Date());
    const [mail] = await smtp.waitFor(1);
    expect(mail!.envelopeTo).toEqual(['user7@example.com']);
  });

  it('delivers e-mails that nobody woke it for on the scheduled sweep', async () => {
    const smtp = await startSmtpServer();
    const worker = await startTestWorker({ mail: mailConfig(smtp.url) }, [mailModule]);
    const license = await issueLicense(worker);
    const outbox = new MongoEmailOutbox({ db: worker.context.db });
    for (let n = 0; n < 3; n++) await outbox.enqueue(request(license.id, n), new Date());
    const mails = await smtp.waitFor(3);
    expect(mails.map((mail) => mail.envelopeTo[0]).sort()).toEqual(['user0@example.com', 'user1@example.com', 'user2@example.com']);
    const schedulers = await new Queue(MAIL_QUEUE, { connection: worker.context.redis, prefix: worker.config.queuePrefix }).getJobSchedulers();
    expect(schedulers.map(({ key, every }) => ({ key, every })).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'mail-prune', every: 86_400_000 },
      { key: 'mail-sweep', every: 500 },
    ]);
  });

  it('without SMTP_URL, warns once and leaves mail queued', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()) }));
    const config = testWorkerConfig({ mail: mailConfig(null) });
    const worker = await startWorker(config, { modules: [mailModule], logger });
    onTestFinished(async () => {
      await worker.context.db.dropDatabase();
      await worker.stop();
    });
    const queue = new Queue(MAIL_QUEUE, { connection: worker.context.redis, prefix: config.queuePrefix });
    expect(await queue.getJobSchedulers()).toEqual([]);
    expect(lines.filter((line) => line.includes('SMTP_URL is not set'))).toHaveLength(1);
  });

  it('records a job with a bad payload as failed without retrying it', async () => {
    const smtp = await startSmtpServer();
    const worker = await startTestWorker({ mail: mailConfig(smtp.url, { sweepIntervalMs: 3_600_000 }) }, [mailModule]);
    const connection = worker.context.createRedis('test-events');
    const events = new QueueEvents(MAIL_QUEUE, { connection, prefix: worker.config.queuePrefix });
    onTestFinished(() => events.close());
    await events.waitUntilReady();
    const queue = new Queue(MAIL_QUEUE, { connection: worker.context.redis, prefix: worker.config.queuePrefix });
    const poison = await queue.add('wake', { emailId: 'not-an-id' }, { attempts: 5 });
    await expect(poison.waitUntilFinished(events)).rejects.toThrow(/invalid wake payload: emailId/);
    const unknown = await queue.add('explode', {}, { attempts: 5 });
    await expect(unknown.waitUntilFinished(events)).rejects.toThrow(/unknown mail job "explode"/);
    for (const job of [poison, unknown]) expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });

  it('deletes sent e-mails past their retention on a prune job, keeping the rest', async () => {
    const smtp = await startSmtpServer();
    const worker = await startTestWorker({ mail: mailConfig(smtp.url, { sweepIntervalMs: 3_600_000, retentionMs: 30 * 86_400_000 }) }, [mailModule]);
    // After the start-up jobs, nothing but this test touches the outbox until the prune job.
    await idle(worker);
    const outbox = new MongoEmailOutbox({ db: worker.context.db });
    const longAgo = new Date('2020-01-01T00:00:00Z');
    const old = await outbox.enqueue(request('lic_old', 1), longAgo);
    await outbox.markSent((await outbox.claimDue(longAgo, 60_000))!, longAgo);
    const failed = await outbox.enqueue(request('lic_old', 2), new Date('2020-01-02T00:00:00Z'));
    await outbox.markFailed((await outbox.claimDue(new Date('2020-01-02T00:00:00Z'), 60_000))!, longAgo, 'refused');

    const events = new QueueEvents(MAIL_QUEUE, { connection: worker.context.createRedis('test-events'), prefix: worker.config.queuePrefix });
    onTestFinished(() => events.close());
    await events.waitUntilReady();
    const queue = new Queue(MAIL_QUEUE, { connection: worker.context.redis, prefix: worker.config.queuePrefix });
    // The daily scheduler's first prune may run before this one and do the deleting: either way
    // it is the module's prune job, and by the end of this one the old e-mail is gone.
    const job = await queue.add('prune', {});
    expect(await job.waitUntilFinished(events)).toEqual({ deleted: expect.any(Number) });
    expect(await outbox.get(old.id)).toBeNull();
    expect(await outbox.get(failed.id)).toMatchObject({ status: 'failed' });
  });

  it('sends each e-mail once when two workers drain one outbox', async () => {
    const smtp = await startSmtpServer();
    const first = await startTestWorker({ mail: mailConfig(smtp.url, { concurrency: 3 }) }, [mailModule]);
    // Same database, its own queue: two independent senders, as two machines would be.
    const second = await startTestWorker({ mongoDb: first.config.mongoDb, mail: mailConfig(smtp.url, { concurrency: 3 }) }, [mailModule], { dropDatabase: false });
    const license = await issueLicense(first);
    const outbox = new MongoEmailOutbox({ db: first.context.db });
    const count = 30;
    for (let n = 0; n < count; n++) await outbox.enqueue(request(license.id, n), new Date());

    await smtp.waitFor(count);
    // Every e-mail is settled as sent on its first attempt; stopping waits for jobs in flight.
    await first.stop();
    await second.stop();
    expect(smtp.received).toHaveLength(count);
    expect(new Set(smtp.received.map((mail) => mail.messageId)).size).toBe(count);
  });
});
