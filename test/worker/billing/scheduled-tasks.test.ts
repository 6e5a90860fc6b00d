/**
 * The billing maintenance jobs, run at chosen times against the real MongoDB: each does its
 * work once, however many workers run it at the same moment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { MongoCustomerStore } from '../../../lib/store/mongo-customer-store.js';
import { MongoEmailOutbox } from '../../../lib/store/mongo-email-outbox.js';
import { MongoStripeEventStore } from '../../../lib/store/mongo-stripe-event-store.js';
import * as tasks from '../../../worker/billing/scheduled-tasks.js';
import { startKeyward, type KeywardFixture } from '../../support/keyward-fixture.js';

const DAY = 86_400_000;
const T0 = '2030-01-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(T0) + days * DAY);

let fixture: KeywardFixture;
let deps: tasks.ScheduledTaskDependencies;
const enqueued: string[] = [];

beforeEach(async () => {
  fixture = await startKeyward();
  fixture.setNow(T0);
  enqueued.length = 0;
  deps = {
    db: fixture.db,
    keyward: fixture.keyward,
    customers: new MongoCustomerStore({ db: fixture.db }),
    events: new MongoStripeEventStore({ db: fixture.db }),
    outbox: new MongoEmailOutbox({ db: fixture.db }),
    expiryGraceMs: 0,
    trialNoticeMs: 3 * DAY,
    eventRetentionMs: 90 * DAY,
    sentEmailRetentionMs: 30 * DAY,
    sweepAfterMs: 30_000,
    enqueueEvent: async (id) => void enqueued.push(id),
  };
});
afterEach(() => fixture.close());

/** Runs a task as two workers would, at the same time, at `now`. */
async function onTwoWorkers<T>(now: Date, task: (d: tasks.ScheduledTaskDependencies, n: Date) => Promise<T>): Promise<T[]> {
  fixture.setNow(now.toISOString());
  return Promise.all([task(deps, now), task(deps, now)]);
}

describe('scheduled billing jobs', () => {
  it('apply a pending downgrade once, when its period has ended', async () => {
    const issued = await fixture.keyward.licenses.issue({ planId: 'pro', periodEndsAt: at(30) });
    if (!issued.ok) throw new Error('not issued');
    const id = issued.value.record.license.id;
    await fixture.keyward.licenses.apply(id, { type: 'change_plan', plan: fixture.keyward.plans.get('basic')! });

    expect(await onTwoWorkers(at(29), tasks.applyPendingChanges)).toEqual([0, 0]);
    expect((await onTwoWorkers(at(30), tasks.applyPendingChanges)).reduce((a, b) => a + b)).toBe(1);
    expect((await fixture.keyward.licenses.get(id))?.license).toMatchObject({ planId: 'basic', pendingChange: null });
  });

  it('apply a pending seat reduction once at its time, freeing the machines bound last above the new count', async () => {
    const issued = await fixture.keyward.licenses.issue({ planId: 'pro', seats: 5, periodEndsAt: at(30) });
    if (!issued.ok) throw new Error('not issued');
    const id = issued.value.record.license.id;
    for (const [day, fingerprint] of [[1, 'fp-a'], [2, 'fp-b'], [3, 'fp-c'], [4, 'fp-d']] as const) {
      fixture.setNow(at(day).toISOString());
      expect((await fixture.keyward.licenses.apply(id, { type: 'activate', kind: 'machine', value: fingerprint })).ok).toBe(true);
    }
    fixture.setNow(at(5).toISOString());
    const pro = fixture.keyward.plans.get('pro')!;
    const reduced = await fixture.keyward.licenses.apply(id, { type: 'change_plan', plan: { ...pro, limits: { ...pro.limits, maxActivations: 2 } } });
    expect(reduced.ok && reduced.value.license).toMatchObject({ limits: { maxActivations: 5 }, pendingChange: { limits: { maxActivations: 2 } } });
    expect(reduced.ok && reduced.value.license.activations).toHaveLength(4);

    expect(await onTwoWorkers(at(29), tasks.applyPendingChanges)).toEqual([0, 0]);
    expect((await onTwoWorkers(at(30), tasks.applyPendingChanges)).reduce((a, b) => a + b)).toBe(1);
    const license = (await fixture.keyward.licenses.get(id))?.license;
    expect(license).toMatchObject({ planId: 'pro', limits: { maxActivations: 2 }, pendingChange: null });
    expect(license?.activations.map((activation) => activation.value)).toEqual(['fp-a', 'fp-b']);
  });

  it('expire licenses (trials too) once their period and grace have ended', async () => {
    const paid = await fixture.keyward.licenses.issue({ planId: 'pro', periodEndsAt: at(30) });
    const trial = await fixture.keyward.licenses.issue({ planId: 'basic', trial: true, trialEndsAt: at(14) });
    const perpetual = await fixture.keyward.licenses.issue({ planId: 'pro' });
    if (!paid.ok || !trial.ok || !perpetual.ok) throw new Error('not issued');
    deps = { ...deps, expiryGraceMs: DAY };

    expect(await onTwoWorkers(at(14.5), tasks.expireLicenses)).toEqual([0, 0]);
    expect((await onTwoWorkers(at(15), tasks.expireLicenses)).reduce((a, b) => a + b)).toBe(1);
    expect((await onTwoWorkers(at(31), tasks.expireLicenses)).reduce((a, b) => a + b)).toBe(1);
    const statuses = await Promise.all([paid, trial, perpetual].map(async (r) => r.ok && (await fixture.keyward.licenses.get(r.value.record.license.id))?.license.status));
    expect(statuses).toEqual(['expired', 'expired', 'active']);
  });

  it('queue one trial_ending e-mail per trial, a few days before it ends', async () => {
    const customer = await deps.customers.findOrCreateByStripeId('cus_stripe_1', 'trial@example.com', at(0));
    const trial = await fixture.keyward.licenses.issue({ planId: 'basic', trial: true, trialEndsAt: at(14), customerId: customer._id });
    if (!trial.ok) throw new Error('not issued');
    expect(await onTwoWorkers(at(10), tasks.queueTrialEndingNotices)).toEqual([0, 0]);
    expect((await onTwoWorkers(at(11.5), tasks.queueTrialEndingNotices)).reduce((a, b) => a + b)).toBe(1);
    expect(await onTwoWorkers(at(12), tasks.queueTrialEndingNotices)).toEqual([0, 0]);
    const emails = await deps.outbox.collection.find({ kind: 'trial_ending' }).toArray();
    expect(emails).toEqual([expect.objectContaining({ to: 'trial@example.com', licenseId: trial.value.record.license.id, dedupeKey: `trial_ending:${trial.value.record.license.id}:${at(14).getTime()}` })]);
  });

  it('delete finished Stripe events and sent e-mails past their retention, and keep dead letters', async () => {
    const store = deps.events;
    for (const [id, receivedAt, status] of [
      ['evt_old_done', at(0), 'processed'],
      ['evt_old_failed', at(0), 'failed'],
      ['evt_recent', at(80), 'processed'],
    ] as const) {
      await store.insert({ id, type: 'invoice.paid', created: receivedAt, livemode: false, body: '{}' }, receivedAt);
      await store.recordAttempt(id, { status }, receivedAt);
    }
    await deps.outbox.enqueue({ kind: 'key_delivery', to: 'a@example.com', licenseId: 'lic_1', customerId: null, dedupeKey: 'old' }, at(0));
    await deps.outbox.enqueue({ kind: 'key_delivery', to: 'a@example.com', licenseId: 'lic_2', customerId: null, dedupeKey: 'pending' }, at(0));
    await deps.outbox.collection.updateOne({ dedupeKey: 'old' }, { $set: { status: 'sent', sentAt: at(1) } });

    const results = await onTwoWorkers(at(95), tasks.deleteExpiredData);
    expect(results.reduce((sum, r) => sum + r.events, 0)).toBe(1);
    expect(results.reduce((sum, r) => sum + r.emails, 0)).toBe(1);
    expect((await store.list({ limit: 10 })).map((e) => e._id).sort()).toEqual(['evt_old_failed', 'evt_recent']);
    expect((await deps.outbox.collection.find({}).toArray()).map((e) => e.dedupeKey)).toEqual(['pending']);
  });

  it('queue events that were stored but never reached the queue', async () => {
    await deps.events.insert({ id: 'evt_stranded', type: 'invoice.paid', created: at(0), livemode: false, body: '{}' }, at(0));
    await deps.events.insert({ id: 'evt_queued', type: 'invoice.paid', created: at(0), livemode: false, body: '{}' }, at(0));
    await deps.events.markQueued('evt_queued', at(0));
    expect(await tasks.sweepUnqueuedEvents(deps, new Date(at(0).getTime() + 10_000))).toBe(0);
    expect(await tasks.sweepUnqueuedEvents(deps, at(1))).toBe(1);
    expect(enqueued).toEqual(['evt_stranded']);
    expect((await deps.events.get('evt_stranded'))?.status).toBe('queued');
  });
});
