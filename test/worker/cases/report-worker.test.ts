/**
 * Abuse reports in the worker on the real Redis and MongoDB: the daily job scheduler is
 * registered, an on-demand job fills its pending report with content gathered from the stored
 * cases and signals, and a poison payload is not retried.
 */
import { Queue, QueueEvents } from 'bullmq';
import { describe, expect, it, onTestFinished } from 'vitest';

import { DAILY_REPORT_PATTERN, DAILY_REPORT_SCHEDULER, REPORT_QUEUE } from '../../../lib/abuse/report-jobs.js';
import { CaseService } from '../../../lib/service/case-service.js';
import { dailyReportPeriod, ReportService } from '../../../lib/service/report-service.js';
import { MongoAbuseSignalStore } from '../../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../../lib/store/mongo-case-store.js';
import { MongoReportStore } from '../../../lib/store/mongo-report-store.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { buildSignal, raiseSignal } from '../../support/abuse-signals.js';
import { csvObjects } from '../../support/parse-csv.js';
import { startTestWorker } from '../../support/worker-fixture.js';

async function startReports() {
  const worker = await startTestWorker({}, [casesModule]);
  const { context } = worker;
  const connection = context.createRedis('test-producer');
  const queue = new Queue(REPORT_QUEUE, { connection, prefix: context.queuePrefix });
  const events = new QueueEvents(REPORT_QUEUE, { connection: context.createRedis('test-events'), prefix: context.queuePrefix });
  await events.waitUntilReady();
  onTestFinished(async () => {
    await events.close();
    await queue.close();
  });
  const reports = new MongoReportStore({ db: context.db });
  return { context, queue, events, reports, service: new ReportService({ db: context.db, reports }) };
}

describe('report worker', () => {
  it('registers the daily report as a job scheduler at 05:00 UTC', async () => {
    const { queue } = await startReports();
    const scheduler = await queue.getJobScheduler(DAILY_REPORT_SCHEDULER);
    expect(scheduler).toMatchObject({ pattern: DAILY_REPORT_PATTERN, tz: 'UTC', name: 'daily-report' });
    expect(await queue.getJobSchedulersCount()).toBe(1);
  });

  it('makes one daily report for the previous UTC day, however often the daily job runs', async () => {
    const { queue, events, reports } = await startReports();
    const first = await queue.add('daily-report', {});
    const id = (await first.waitUntilFinished(events, 30_000)) as string;
    const second = await queue.add('daily-report', {});
    expect(await second.waitUntilFinished(events, 30_000)).toBe(id);
    const { from } = dailyReportPeriod(new Date());
    expect(id).toBe(`rpt_daily_${from.toISOString().slice(0, 10)}`);
    expect(await reports.get(id)).toMatchObject({ status: 'ready', trigger: 'schedule', period: { from } });
    expect(await reports.collection.countDocuments()).toBe(1);
  });

  it('fills an on-demand report with the period’s cases, signals and clusters', async () => {
    const { context, queue, events, reports, service } = await startReports();
    const issued = await context.keyward.licenses.issue({ planId: 'pro' });
    if (!issued.ok) throw new Error('issue failed');
    const licenseId = issued.value.record.license.id;
    await raiseSignal(context.db, context.hooks, buildSignal({ licenseId, severity: 60, windowStart: '2026-11-01T10:00:00Z' }));
    await raiseSignal(
      context.db,
      context.hooks,
      buildSignal({
        kind: 'trial_cycling',
        licenseId: 'lic_trial_2',
        severity: 50,
        windowStart: '2026-11-01T12:00:00Z',
        evidence: { linkedCustomers: [{ customerId: 'cus_1', licenseId: 'lic_trial_1', sharedBy: ['card'] }] },
      }),
    );
    // Outside the period: counted nowhere but in the open cases.
    await raiseSignal(context.db, context.hooks, buildSignal({ licenseId: 'lic_other', windowStart: '2026-10-20T10:00:00Z' }));

    const id = await service.request({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z'), trigger: 'api', requestedBy: 'admin:test' });
    expect((await reports.get(id))?.status).toBe('pending');
    const job = await queue.add('generate-report', { reportId: id });
    expect(await job.waitUntilFinished(events, 30_000)).toBe(id);

    const stored = await reports.get(id);
    expect(stored).toMatchObject({ status: 'ready', trigger: 'api', requestedBy: 'admin:test' });
    const content = JSON.parse(JSON.stringify(stored?.content)) as Record<string, unknown>;
    expect(content).toMatchObject({
      reportId: id,
      summary: { signals: 2, trialCyclingClusters: 1, openCases: 3 },
      signalsByKind: [
        { kind: 'trial_cycling', count: 1, maxSeverity: 50 },
        { kind: 'velocity', count: 1, maxSeverity: 60 },
      ],
      signalsByDay: [{ day: '2026-11-01', count: 2 }],
      topSignals: [{ kind: 'velocity', severity: 60 }, { kind: 'trial_cycling', severity: 50 }],
      trialCyclingClusters: [{ customers: ['cus_1'], licenses: ['lic_trial_1', 'lic_trial_2'], sharedBy: ['card'], signals: 1 }],
    });
    expect(csvObjects(stored?.csv ?? '').filter(({ section }) => section === 'top_signal')).toHaveLength(2);
    expect(stored?.html).toContain('<section id="trial-cycling">');
  });

  it('lists key actions decided in the period', async () => {
    const { context, service, reports } = await startReports();
    const issued = await context.keyward.licenses.issue({ planId: 'pro' });
    if (!issued.ok) throw new Error('issue failed');
    const licenseId = issued.value.record.license.id;
    await raiseSignal(context.db, context.hooks, buildSignal({ licenseId }));
    const cases = new CaseService({ cases: new MongoCaseStore({ db: context.db }), signals: new MongoAbuseSignalStore({ db: context.db }), licenses: context.keyward.licenses, plans: context.keyward.plans });
    await cases.decide(`case_${licenseId}`, { action: 'suspend', reviewer: 'admin:alice', reason: 'resold' });
    const now = new Date();
    const id = await service.request({ from: new Date(now.getTime() - 3_600_000), to: new Date(now.getTime() + 3_600_000), trigger: 'cli', requestedBy: 'cli:test' });
    await service.generate(id);
    expect((await reports.get(id))?.content).toMatchObject({ summary: { keysSuspended: 1 }, keyActions: [{ licenseId, reviewer: 'admin:alice', reason: 'resold' }] });
  });

  it('does not retry a poison payload', async () => {
    const { queue, events } = await startReports();
    const job = await queue.add('generate-report', { reportId: '../../etc' }, { attempts: 5 });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/Poison/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });
});
