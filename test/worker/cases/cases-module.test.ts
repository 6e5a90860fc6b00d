/**
 * The cases worker module on the real Redis and MongoDB: the onSignal hook rolls signals into
 * cases idempotently and under concurrency, reopens dismissed cases, suspends automatically only
 * where the plan asks, and decisions reach the license audit trail with their actor.
 */
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import { loadPlanCatalogue } from '../../../lib/plans/plan-catalogue.js';
import { ABUSE_DETECTOR_ACTOR, CaseService } from '../../../lib/service/case-service.js';
import { MongoAbuseSignalStore } from '../../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../../lib/store/mongo-case-store.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { buildSignal, raiseSignal } from '../../support/abuse-signals.js';
import { TEST_PLANS } from '../../support/keyward-fixture.js';
import { startTestWorker, testWorkerConfig } from '../../support/worker-fixture.js';
import { startWorker } from '../../../worker/main.js';

/** The test plans, with `guarded` suspending automatically above a score of 60. */
const PLANS = loadPlanCatalogue({
  plans: [...TEST_PLANS.plans, { id: 'guarded', rank: 9, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null }, abuseThresholds: { autoSuspendScore: 60 } }],
});

async function startCases() {
  const worker = await startTestWorker({ plans: PLANS }, [casesModule]);
  const { context } = worker;
  const cases = new MongoCaseStore({ db: context.db });
  const service = new CaseService({ cases, signals: new MongoAbuseSignalStore({ db: context.db }), licenses: context.keyward.licenses, plans: PLANS });
  const issue = async (planId: string) => {
    const issued = await context.keyward.licenses.issue({ planId });
    if (!issued.ok) throw new Error(issued.refusal.message);
    return issued.value.record.license.id;
  };
  const raise = (signal: Parameters<typeof raiseSignal>[2]) => raiseSignal(context.db, context.hooks, signal);
  return { worker, context, cases, service, issue, raise };
}

describe('cases module: onSignal', () => {
  it('is set while the module runs and removed when it stops', async () => {
    const { worker, context } = await startCases();
    expect(context.hooks.onSignal).toBeTypeOf('function');
    await worker.stop();
    expect(context.hooks.onSignal).toBeUndefined();
  });

  it('rolls a repeated signal into one timeline entry', async () => {
    const { cases, issue, raise } = await startCases();
    const licenseId = await issue('pro');
    const signal = buildSignal({ licenseId, severity: 30 });
    await raise(signal);
    await raise(signal);
    await raise({ ...signal, severity: 45 });
    const found = await cases.get(`case_${licenseId}`);
    expect(found?.timeline).toHaveLength(1);
    expect(found).toMatchObject({ status: 'open', version: 3, timeline: [{ signalId: signal.id, severity: 45 }] });
  });

  it('keeps every signal of 20 concurrent calls, each once, in one case', async () => {
    const { cases, context, issue } = await startCases();
    const licenseId = await issue('pro');
    const signals = Array.from({ length: 10 }, (_, i) => buildSignal({ licenseId, severity: 5, windowStart: `2026-11-01T${String(i + 10)}:00:00Z` }));
    // Every signal twice, all at once: 20 writers racing on one case document.
    const onSignal = context.hooks.onSignal;
    if (!onSignal) throw new Error('no hook');
    await Promise.all([...signals, ...signals].map((signal) => onSignal(signal)));
    const found = await cases.get(`case_${licenseId}`);
    expect(found?.timeline.map(({ signalId }) => signalId).sort()).toEqual(signals.map(({ id }) => id).sort());
    expect(await cases.collection.countDocuments()).toBe(1);
  });

  it('converges when stores of different processes race on one case (version-guarded writes)', async () => {
    const { context } = await startCases();
    // One store per "worker process": no shared in-process queue, only the guarded writes.
    const stores = Array.from({ length: 4 }, () => new MongoCaseStore({ db: context.db }));
    const signals = Array.from({ length: 12 }, (_, i) => buildSignal({ licenseId: 'lic_race', severity: 1, windowStart: `2026-11-02T${String(i + 10)}:00:00Z` }));
    const now = new Date('2026-11-03T00:00:00Z');
    await Promise.all(signals.flatMap((signal, i) => [stores[i % 4]!.recordSignal(signal, now), stores[(i + 1) % 4]!.recordSignal(signal, now)]));
    const found = await stores[0]!.get('case_lic_race');
    expect(found?.timeline).toHaveLength(12);
    expect(found?.score).toBe(12);
  });

  it('makes one case per network for key guessing', async () => {
    const { cases, raise } = await startCases();
    const subject = { type: 'network', network: '203.0.113.0/24' } as const;
    await raise(buildSignal({ kind: 'key_guessing', subject, windowStart: '2026-11-01T10:00:00Z' }));
    await raise(buildSignal({ kind: 'key_guessing', subject, windowStart: '2026-11-01T11:00:00Z' }));
    const [only, ...others] = await cases.list({ limit: 10 });
    expect(others).toEqual([]);
    expect(only).toMatchObject({ subject, timeline: [{ kind: 'key_guessing' }, { kind: 'key_guessing' }] });
  });

  it('reopens a dismissed case when a new signal arrives later', async () => {
    const { cases, service, issue, raise } = await startCases();
    const licenseId = await issue('pro');
    await raise(buildSignal({ licenseId, detectedAt: '2026-11-01T11:00:00Z' }));
    const dismissed = await service.decide(`case_${licenseId}`, { action: 'dismiss', reviewer: 'admin:alice', reason: 'Our own load test.' });
    expect(dismissed).toMatchObject({ ok: true, case: { status: 'dismissed' } });
    await raise(buildSignal({ licenseId, kind: 'geo_spread', windowStart: '2099-01-01T00:00:00Z' }));
    expect(await cases.get(`case_${licenseId}`)).toMatchObject({ status: 'open', reopenCount: 1, decision: { action: 'dismiss', reviewer: 'admin:alice' } });
  });
});

describe('cases module: decisions', () => {
  it('suspends through the license service, writing the reviewer and reason to the audit trail', async () => {
    const { context, service, issue, raise } = await startCases();
    const licenseId = await issue('pro');
    await raise(buildSignal({ licenseId }));
    const outcome = await service.decide(`case_${licenseId}`, { action: 'suspend', reviewer: 'admin:alice', reason: 'Key resold on a forum.' });
    expect(outcome).toMatchObject({ ok: true, case: { status: 'actioned', decision: { action: 'suspend', reviewer: 'admin:alice', reason: 'Key resold on a forum.' } } });
    const license = await context.keyward.licenses.get(licenseId);
    expect(license?.license).toMatchObject({ status: 'suspended', suspension: { reason: 'abuse_hold' } });
    const audit = await context.keyward.licenses.auditTrail(licenseId, { limit: 10 });
    expect(audit.at(-1)).toMatchObject({ command: 'suspend', cause: { actor: 'admin:alice', reason: 'Key resold on a forum.', ref: `case_${licenseId}` } });
  });

  it('revokes with reason abuse, and passes a lifecycle refusal through without touching the case', async () => {
    const { context, cases, service, issue, raise } = await startCases();
    const licenseId = await issue('pro');
    await raise(buildSignal({ licenseId }));
    expect(await service.decide(`case_${licenseId}`, { action: 'revoke', reviewer: 'cli:bob', reason: 'Chargeback fraud.' })).toMatchObject({ ok: true });
    expect((await context.keyward.licenses.get(licenseId))?.license).toMatchObject({ status: 'revoked', revocation: { reason: 'abuse' } });
    const before = await cases.get(`case_${licenseId}`);
    expect(await service.decide(`case_${licenseId}`, { action: 'suspend', reviewer: 'cli:bob', reason: 'again' })).toMatchObject({ ok: false, refusal: { code: 'LICENSE_REVOKED' } });
    expect(await cases.get(`case_${licenseId}`)).toEqual(before);
  });

  it('only dismisses a network case, and answers null for an unknown case', async () => {
    const { service, raise } = await startCases();
    await raise(buildSignal({ kind: 'key_guessing', subject: { type: 'network', network: '198.51.100.0/24' } }));
    const [found] = await service.list({ limit: 1 });
    expect(await service.decide(found!.id, { action: 'revoke', reviewer: 'r', reason: 'x' })).toMatchObject({ ok: false, refusal: { code: 'NETWORK_CASE_DISMISS_ONLY' } });
    expect(await service.decide('case_lic_nothing', { action: 'dismiss', reviewer: 'r', reason: 'x' })).toBeNull();
  });
});

describe('cases module: automatic suspension', () => {
  it('suspends a license whose plan sets autoSuspendScore once its case scores above it', async () => {
    const { context, cases, issue, raise } = await startCases();
    const licenseId = await issue('guarded');
    const now = new Date().toISOString();
    await raise(buildSignal({ licenseId, severity: 60, detectedAt: now }));
    expect((await context.keyward.licenses.get(licenseId))?.license.status).toBe('active');
    await raise(buildSignal({ licenseId, kind: 'geo_spread', severity: 30, detectedAt: now }));
    expect((await context.keyward.licenses.get(licenseId))?.license).toMatchObject({ status: 'suspended', suspension: { reason: 'abuse_hold' } });
    expect(await cases.get(`case_${licenseId}`)).toMatchObject({ status: 'actioned', decision: { action: 'suspend', reviewer: ABUSE_DETECTOR_ACTOR } });
    const audit = await context.keyward.licenses.auditTrail(licenseId, { limit: 10 });
    expect(audit.at(-1)?.cause.actor).toBe(ABUSE_DETECTOR_ACTOR);
  });

  it('never suspends on a plan without autoSuspendScore (the default)', async () => {
    const { context, cases, issue, raise } = await startCases();
    const licenseId = await issue('pro');
    const now = new Date().toISOString();
    for (const kind of ['velocity', 'geo_spread', 'domain_spoofing'] as const) await raise(buildSignal({ licenseId, kind, severity: 90, detectedAt: now }));
    expect(await cases.get(`case_${licenseId}`)).toMatchObject({ status: 'open', score: 100 });
    expect((await context.keyward.licenses.get(licenseId))?.license.status).toBe('active');
  });
});

describe('cases module: what it logs', () => {
  it('logs each change with the score as stored: the last line about a case shows the score its page shows', async () => {
    const lines: Array<{ msg: string; caseId?: string; score?: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const config = testWorkerConfig({ plans: PLANS });
    const worker = await startWorker(config, { modules: [casesModule], logger });
    onTestFinished(async () => {
      await worker.stop();
    });
    onTestFinished(() => worker.context.db.dropDatabase().then(() => undefined));
    const issued = await worker.context.keyward.licenses.issue({ planId: 'pro' });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const licenseId = issued.value.record.license.id;
    // A first signal opens the case; the next ones raise its score after it was opened.
    for (const [i, severity] of [40, 4, 2].entries()) {
      await raiseSignal(worker.context.db, worker.context.hooks, buildSignal({ licenseId, severity, windowStart: `2026-11-01T1${i}:00:00Z` }));
    }
    const stored = await new MongoCaseStore({ db: worker.context.db }).get(`case_${licenseId}`);
    const about = lines.filter((line) => line.caseId === `case_${licenseId}`);
    expect(about.map((line) => line.msg)).toEqual(['abuse case opened', 'abuse case updated', 'abuse case updated']);
    expect(about.at(-1)?.score).toBe(stored?.score);
  });
});
