/** The per-subscription lock, against the real Redis: one holder at a time, in this process and across processes. */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { BillingJobError } from '../../../worker/billing/billing-job-error.js';
import { SubscriptionLock } from '../../../worker/billing/subscription-lock.js';
import { redisUrl, uniqueName } from '../../setup/services.js';

function connect(): Redis {
  const redis = new Redis(redisUrl());
  onTestFinished(() => void redis.quit());
  return redis;
}

/** A job body that records when it starts and ends, and finishes when `finish` is called. */
function gatedJob(log: string[], name: string) {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish: () => finish(),
    body: async () => {
      log.push(`${name} start`);
      await finished;
      log.push(`${name} end`);
      return name;
    },
  };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Waits (polling) until `condition` holds; fails after a generous bound instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await turn();
  expect(condition()).toBe(true);
}

describe('SubscriptionLock', () => {
  it('runs the jobs of one process for one subscription one at a time, in the order they asked', async () => {
    const lock = new SubscriptionLock({ redis: connect(), prefix: uniqueName('lock') });
    const log: string[] = [];
    const jobs = ['a', 'b', 'c'].map((name) => gatedJob(log, name));
    const runs = jobs.map((job) => lock.run('sub_1', job.body));
    for (const job of jobs) {
      await turn();
      job.finish();
    }
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('lets jobs about different subscriptions run at once', async () => {
    const lock = new SubscriptionLock({ redis: connect(), prefix: uniqueName('lock') });
    const log: string[] = [];
    const [one, two] = [gatedJob(log, 'one'), gatedJob(log, 'two')];
    const runs = [lock.run('sub_1', one.body), lock.run('sub_2', two.body)];
    await until(() => log.length === 2);
    expect(log.sort()).toEqual(['one start', 'two start']);
    one.finish();
    two.finish();
    await Promise.all(runs);
  });

  it('keeps a second process out while the first holds the subscription', async () => {
    const prefix = uniqueName('lock');
    const [first, second] = [new SubscriptionLock({ redis: connect(), prefix }), new SubscriptionLock({ redis: connect(), prefix })];
    const log: string[] = [];
    const [a, b] = [gatedJob(log, 'a'), gatedJob(log, 'b')];
    const runA = first.run('sub_1', a.body);
    await until(() => log.includes('a start'));
    const runB = second.run('sub_1', b.body);
    await turn();
    expect(log).toEqual(['a start']);
    a.finish();
    await runA;
    await turn();
    b.finish();
    await runB;
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
  });

  it('answers a retryable SUBSCRIPTION_BUSY to a job that waited longer than waitMs, and serves the next job once the holder is done', async () => {
    const lock = new SubscriptionLock({ redis: connect(), prefix: uniqueName('lock'), waitMs: 50 });
    const log: string[] = [];
    const holder = gatedJob(log, 'holder');
    const held = lock.run('sub_1', holder.body);
    const refused = await lock.run('sub_1', async () => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BillingJobError);
    expect(refused).toMatchObject({ code: 'SUBSCRIPTION_BUSY', retry: true });
    holder.finish();
    await held;
    expect(await lock.run('sub_1', async () => 'next')).toBe('next');
  });
});
