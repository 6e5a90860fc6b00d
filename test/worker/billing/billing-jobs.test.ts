/** The billing queue's job catalogue: a job whose payload fails its schema is poison, failed at once. */
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { BILLING_QUEUE } from '../../../lib/billing/billing-jobs.js';
import { startBillingSystem } from '../../support/billing-fixture.js';
import { redisUrl } from '../../setup/services.js';

async function failedState(queue: Queue, id: string): Promise<Job> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const job = await queue.getJob(id);
    // Read again once failed: the copy read before the failure holds the attempts made before it.
    if (job && (await job.getState()) === 'failed') return (await queue.getJob(id)) ?? job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${id} did not fail`);
}

describe('billing jobs', () => {
  it.each([
    ['a payload that fails its schema', 'stripe-event', { eventId: 'not-an-event-id' }],
    ['an unknown job name', 'launch-rockets', {}],
  ])('treats %s as poison: failed after one attempt, not retried', async (_name, jobName, data) => {
    const billing = await startBillingSystem();
    const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(BILLING_QUEUE, { connection, prefix: billing.server.config.queuePrefix! });
    onTestFinished(async () => {
      await queue.close();
      await connection.quit();
    });
    const added = await queue.add(jobName, data, { attempts: 5, backoff: { type: 'fixed', delay: 10 } });
    const job = await failedState(queue, added.id!);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^INVALID_JOB: /);
  });
});
