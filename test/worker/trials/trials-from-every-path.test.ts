/**
 * Trials created through the admin API are registered and judged end to end: the real server
 * issues them (with the customer's e-mail) and records each activation's device and client
 * address, the real worker's detector keeps the network census from validations, and the trial
 * watch judges what the server recorded. Students behind a campus NAT that dozens of paying
 * customers share stay quiet; one person issuing trials under Gmail variants is flagged and gets
 * cases.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { MongoCaseStore } from '../../../lib/store/mongo-case-store.js';
import { MongoSignalStore } from '../../../lib/store/mongo-signal-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { serverWiring } from '../../../server/main.js';
import { createAbuseDetectorModule } from '../../../worker/abuse/abuse-detector-module.js';
import { DEFAULT_CONSUMER_GROUP } from '../../../worker/abuse/stream-consumer.js';
import { readStreamLag } from '../../../worker/abuse/stream-lag.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { createTrialWatchModule } from '../../../worker/trials/trial-watch-module.js';
import { sendValidations } from '../../support/abuse-traffic.js';
import { startTestServer } from '../../support/server-fixture.js';
import { startTestWorker } from '../../support/worker-fixture.js';

const CAMPUS = '198.51.100.20';
const WAIT_LIMIT_MS = 90_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
type Json = any;

describe('trials from the admin API', () => {
  it('registers them with e-mail, device and the customer network, flags Gmail-variant cycling and leaves campus students alone', { timeout: 240_000 }, async () => {
    const server = await startTestServer({}, serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    // The watch sweeps when the test says so (its timer is an hour away).
    const trialWatch = createTrialWatchModule({ intervalMs: 3_600_000 });
    const worker = await startTestWorker(
      { mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 }), trialWatch],
      { dropDatabase: false },
    );
    const client = await new MongoClient(server.config.mongoUrl).connect();
    const db = client.db(server.config.mongoDb);
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'ops', scope: 'write' }, new Date());
    const admin = async (body: unknown): Promise<{ id: string; key: string }> => {
      const response = await fetch(`${server.url}/v1/admin/licenses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as Json;
      expect(response.status, JSON.stringify(answer)).toBe(201);
      return answer.licenses[0];
    };
    const activate = async (key: string, fingerprint: string, ip: string) => {
      expect((await server.post('/v1/licenses/activate', { key, fingerprint }, { 'x-forwarded-for': ip })).status).toBe(200);
    };
    const drain = () => waitForDrain(worker.context.redis, allStreamKeys(partitions, streamPrefix));

    try {
      // The campus NAT: 30 paying customers' licenses validate from it every day.
      const paid: { id: string; key: string }[] = [];
      for (let i = 0; i < 30; i++) paid.push(await admin({ planId: 'open', customerId: `cus_campus_${i}`, periodEndsAt: new Date(Date.now() + 365 * 86_400_000).toISOString() }));
      await sendValidations(server.url, paid.flatMap((license) => [{ key: license.key, ip: CAMPUS }, { key: license.key, ip: CAMPUS }]));
      await drain();
      // The detector writes the census in the background, paced: wait until it holds the campus.
      await waitFor(async () => (await worker.context.keyward.trialRegistrations.census.countDocuments({ network: CAMPUS })) === 30, 'the campus census');

      // Five students start trials from campus, each with their own mailbox and laptop.
      const students: { id: string; key: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const trial = await admin({ planId: 'pro', trial: true, customerId: `cus_student_${i}`, email: `student${i}.name@uni-example.edu` });
        await activate(trial.key, `laptop-${i}`, CAMPUS);
        students.push(trial);
      }
      // One person: five trials under Gmail variants, no customer record, a new carrier address and VM each time.
      const variants = ['jane.doe@gmail.com', 'janedoe+trial2@gmail.com', 'J.A.N.E.D.O.E@googlemail.com', 'jane.d.o.e+x@GMAIL.com', 'janedoe@googlemail.com'];
      const cycler: { id: string; key: string }[] = [];
      for (const [i, email] of variants.entries()) {
        const trial = await admin({ planId: 'pro', trial: true, email });
        await activate(trial.key, `vm-${i}`, `100.64.${10 + i}.${20 + i}`);
        cycler.push(trial);
      }
      await sendValidations(server.url, [
        ...students.map((trial, i) => ({ key: trial.key, ip: CAMPUS, fingerprint: `laptop-${i}` })),
        ...cycler.map((trial, i) => ({ key: trial.key, ip: `100.64.${10 + i}.${20 + i}`, fingerprint: `vm-${i}` })),
      ]);
      await drain();

      // What the server recorded: the request's e-mail, the activation's device and the customer's address (not the operator's).
      const registrations = worker.context.keyward.trialRegistrations;
      const [student0] = await registrations.getMany([students[0]!.id]);
      expect(student0).toMatchObject({ customerId: 'cus_student_0', emailNormalized: 'student0.name@uni-example.edu', deviceFingerprints: ['laptop-0'], ips: [CAMPUS] });
      const [cycler1] = await registrations.getMany([cycler[1]!.id]);
      expect(cycler1).toMatchObject({ customerId: `license:${cycler[1]!.id}`, emailNormalized: 'janedoe@gmail.com', deviceFingerprints: ['vm-1'], ips: ['100.64.11.21'] });

      const swept = await trialWatch.running()!.sweep();
      expect(swept.evaluated).toBe(10);
      expect(await registrations.findPending(100)).toEqual([]);

      const signals = (await new MongoSignalStore({ db }).list({ kind: 'trial_cycling', limit: 100 })).filter((signal) => signal.subject.type === 'license');
      const flagged = new Map(signals.map((signal) => [signal.subject.type === 'license' ? signal.subject.licenseId : '', signal]));
      const cyclerIds = cycler.map((trial) => trial.id);
      const [firstCycler, ...laterCyclers] = [...cyclerIds].sort();
      expect([...flagged.keys()].sort()).toEqual(laterCyclers);
      expect(flagged.has(firstCycler!)).toBe(false);
      for (const student of students) expect(flagged.has(student.id)).toBe(false);
      const last = flagged.get(laterCyclers.at(-1)!)!;
      expect(last).toMatchObject({ value: 4, threshold: 1 });
      expect(last.evidence.linkedCustomers!.map((link) => link.sharedBy)).toEqual([['email'], ['email'], ['email'], ['email']]);

      // Each flagged trial has its case (the cases module took the watch's signals).
      const cases = await new MongoCaseStore({ db }).list({ limit: 100 });
      const caseLicenses = cases.flatMap((entry) => (entry.subject.type === 'license' ? [entry.subject.licenseId] : []));
      expect(caseLicenses.filter((id) => laterCyclers.includes(id))).toHaveLength(4);
      expect(caseLicenses.filter((id) => students.some((student) => student.id === id))).toEqual([]);
    } finally {
      await worker.stop();
      await client.close();
    }
  });
});

async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} was not written within ${WAIT_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForDrain(redis: Parameters<typeof readStreamLag>[0], streamKeys: readonly string[]): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const lags = await Promise.all(streamKeys.map((key) => readStreamLag(redis, key, DEFAULT_CONSUMER_GROUP)));
    if (lags.every((lag) => lag.pending === 0 && lag.undelivered === 0)) return;
    if (Date.now() > deadline) throw new Error(`the worker did not drain the event streams within ${WAIT_LIMIT_MS} ms; backlog per partition: ${JSON.stringify(lags)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
