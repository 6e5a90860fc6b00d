/**
 * Trials are registered by the license service itself, so every path that issues one (admin
 * API, CLI, a backend embedding createKeyward, billing) records it: with the e-mail of the
 * request or of the customer record, before the license is written; and an activation records
 * the machine and the client's own address. The worker's trial watch judges what is pending.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TrialRecorder } from '../../lib/abuse/trial-registration.js';
import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { LicenseService } from '../../lib/service/license-service.js';
import { TrialCyclingWatch } from '../../lib/service/trial-cycling-watch.js';
import { MongoLicenseStore } from '../../lib/store/mongo-license-store.js';
import { sweepPendingTrials } from '../../worker/trials/trial-watch-module.js';
import { startKeyward, TEST_PLANS, TEST_SECRETS, type KeywardFixture } from '../support/keyward-fixture.js';

let fixture: KeywardFixture;
beforeEach(async () => {
  fixture = await startKeyward();
  fixture.setNow('2026-09-01T09:00:00.000Z');
});
afterEach(async () => {
  await fixture.close();
});

const registrationsOf = (ids: readonly string[]) => fixture.keyward.trialRegistrations.collection.find({ _id: { $in: [...ids] } }).sort({ _id: 1 }).toArray();

describe('createKeyward: issuing trials', () => {
  it("records each trial with the customer's stored e-mail, pending for the trial watch, and no paid license", async () => {
    await fixture.db.collection('customers').insertOne({ _id: 'cus_jane' as never, email: 'Jane.Doe+trial@gmail.com', createdAt: new Date(), updatedAt: new Date() });
    const trials = await fixture.keyward.licenses.issueMany(3, { planId: 'pro', trial: true, customerId: 'cus_jane' });
    const paid = await fixture.keyward.licenses.issue({ planId: 'pro', customerId: 'cus_jane', periodEndsAt: new Date('2027-01-01T00:00:00Z') });
    if (!trials.ok || !paid.ok) throw new Error('not issued');
    const ids = trials.value.map(({ record }) => record.license.id);

    const stored = await registrationsOf([...ids, paid.value.record.license.id]);
    expect(stored.map((document) => document._id)).toEqual(ids);
    for (const [i, document] of stored.entries()) {
      expect(document).toEqual({
        _id: ids[i],
        customerId: 'cus_jane',
        email: 'Jane.Doe+trial@gmail.com',
        emailNormalized: 'janedoe@gmail.com',
        cardFingerprint: null,
        stripeSubscriptionId: null,
        deviceFingerprints: [],
        ips: [],
        networks: [],
        startedAt: new Date('2026-09-01T09:00:00.000Z'),
        pendingSince: new Date('2026-09-01T09:00:00.000Z'),
      });
    }
  });

  it("takes the request's e-mail over the customer's, and makes a customerless trial its own customer", async () => {
    await fixture.db.collection('customers').insertOne({ _id: 'cus_jane' as never, email: 'jane@example.com', createdAt: new Date(), updatedAt: new Date() });
    const given = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true, customerId: 'cus_jane', email: 'j.doe@googlemail.com' });
    const alone = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true });
    if (!given.ok || !alone.ok) throw new Error('not issued');
    const aloneId = alone.value.record.license.id;
    expect(await registrationsOf([given.value.record.license.id, aloneId])).toMatchObject([
      { customerId: 'cus_jane', emailNormalized: 'jdoe@gmail.com' },
      { customerId: `license:${aloneId}`, email: null },
    ]);
  });

  it('records what an activation of a trial shows (machine and client address), and nothing for paid licenses', async () => {
    const trial = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true, customerId: 'cus_a' });
    const paid = await fixture.keyward.licenses.issue({ planId: 'pro', customerId: 'cus_b', periodEndsAt: new Date('2027-01-01T00:00:00Z') });
    if (!trial.ok || !paid.ok) throw new Error('not issued');
    await fixture.keyward.trialRegistrations.clearPending(trial.value.record.license.id, new Date('2026-09-01T09:00:00.000Z'));
    fixture.setNow('2026-09-01T10:00:00.000Z');
    const activate = (key: string, value: string, ip: string) =>
      fixture.keyward.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value, cause: { actor: 'client' } }, { ip });
    expect((await activate(trial.value.key, 'laptop-1', '2001:db8:5:6:a::1')).ok).toBe(true);
    expect((await activate(paid.value.key, 'desk-1', '203.0.113.5')).ok).toBe(true);

    expect(await registrationsOf([trial.value.record.license.id, paid.value.record.license.id])).toMatchObject([
      { deviceFingerprints: ['laptop-1'], ips: ['2001:db8:5:6:a::1'], networks: ['2001:db8:5:6::/64'], pendingSince: new Date('2026-09-01T10:00:00.000Z') },
    ]);
  });
});

describe('createKeyward: e-mail variants across trials', () => {
  it('links trials issued under Gmail variants once the trial watch sweeps, and leaves other people alone', async () => {
    const variants = ['ada.lovelace@gmail.com', 'adalovelace+2@googlemail.com', 'Ada.Love.Lace+x@GMAIL.com'];
    const ids: string[] = [];
    for (const [i, email] of variants.entries()) {
      fixture.setNow(`2026-09-0${1 + i}T09:00:00.000Z`);
      const issued = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true, email });
      if (!issued.ok) throw new Error('not issued');
      ids.push(issued.value.record.license.id);
    }
    const other = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true, email: 'grace.hopper@gmail.com' });
    if (!other.ok) throw new Error('not issued');
    const watch = new TrialCyclingWatch({
      registrations: fixture.keyward.trialRegistrations,
      licenseExists: async (licenseIds) => new Set((await fixture.keyward.licenses.getMany(licenseIds)).map((record) => record.license.id)),
    });
    const swept = await sweepPendingTrials({ watch, signals: { upsert: async () => undefined }, batchSize: 100 }, new Date('2026-09-05T00:00:00.000Z'));
    expect(swept.evaluated).toBe(4);
    expect(swept.signals.map((signal) => [signal.subject.type === 'license' ? signal.subject.licenseId : '', signal.value]).sort()).toEqual([
      [ids[1], 1],
      [ids[2], 2],
    ]);
  });
});

describe('LicenseService with a failing trial recorder', () => {
  const failing = (where: 'register' | 'addSightings'): TrialRecorder & { errors: unknown[] } => ({
    errors: [],
    register: async () => {
      if (where === 'register') throw new Error('datastore down');
    },
    addSightings: async () => {
      if (where === 'addSightings') throw new Error('datastore down');
    },
  });
  const service = (trials: TrialRecorder, onError?: (error: unknown) => void) =>
    new LicenseService({
      store: new MongoLicenseStore({ db: fixture.db }),
      plans: loadPlanCatalogue(TEST_PLANS),
      digestSecret: TEST_SECRETS.digest,
      keyCipher: createKeyCipher(TEST_SECRETS.encryption),
      trials,
      ...(onError ? { onError } : {}),
    });

  it('issues no trial it could not record (nothing is written, the caller sees the fault)', async () => {
    await expect(service(failing('register')).issue({ planId: 'pro', trial: true })).rejects.toThrow('datastore down');
    expect(await fixture.db.collection('licenses').countDocuments()).toBe(0);
    // A paid license needs no registration.
    expect((await service(failing('register')).issue({ planId: 'pro' })).ok).toBe(true);
  });

  it('keeps an activation whose sighting could not be recorded, and reports the failure', async () => {
    const errors: unknown[] = [];
    const licenses = service(failing('addSightings'), (error) => errors.push(error));
    const trial = await licenses.issue({ planId: 'pro', trial: true });
    if (!trial.ok) throw new Error('not issued');
    const activated = await licenses.applyByKey(trial.value.key, { type: 'activate', kind: 'machine', value: 'pc', cause: { actor: 'client' } }, { ip: '203.0.113.5' });
    expect(activated.ok).toBe(true);
    expect(errors).toMatchObject([{ message: 'datastore down' }]);
  });
});

describe('the trial watch and registrations without a license', () => {
  it('raises nothing for a trial whose license was never written, waits while it may still be, then deletes it', async () => {
    const registrations = fixture.keyward.trialRegistrations;
    const known = await fixture.keyward.licenses.issue({ planId: 'pro', trial: true, customerId: 'cus_a', email: 'jane@gmail.com' });
    if (!known.ok) throw new Error('not issued');
    // A registration whose license insert failed (same e-mail, other customer, later).
    const orphan = { licenseId: 'lic_orphan', customerId: 'cus_b', email: 'j.a.n.e@gmail.com', cardFingerprint: null, deviceFingerprint: null, ip: null, stripeSubscriptionId: null, startedAt: new Date('2026-09-01T09:05:00.000Z') };
    await registrations.register([orphan], new Date('2026-09-01T09:05:00.000Z'));
    const watch = new TrialCyclingWatch({
      registrations,
      licenseExists: async (ids) => new Set((await fixture.keyward.licenses.getMany(ids)).map((record) => record.license.id)),
    });
    const sweep = (at: string) => sweepPendingTrials({ watch, signals: { upsert: async () => undefined }, batchSize: 1 }, new Date(at));

    expect(await sweep('2026-09-01T09:06:00.000Z')).toEqual({ evaluated: 2, signals: [] });
    expect((await registrations.findPending(10)).map((pending) => pending.profile.licenseId)).toEqual(['lic_orphan']);
    expect(await sweep('2026-09-01T09:20:00.000Z')).toEqual({ evaluated: 1, signals: [] });
    expect(await registrations.findPending(10)).toEqual([]);
    expect(await registrations.getMany(['lic_orphan'])).toEqual([]);
  });
});
