/**
 * The `cases` worker module: provides `hooks.onSignal`, so every stored signal (from the
 * detector rules, or billing's payment disputes) rolls up into its case, with automatic
 * suspension where a plan asks for it; and runs the abuse report queue (daily schedule and
 * on-demand reports). Registered first in worker/modules.ts: the modules that call the hook
 * start after it.
 */
import { CaseService } from '../../lib/service/case-service.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { MongoReportStore } from '../../lib/store/mongo-report-store.js';
import type { RunningWorkerModule, WorkerContext, WorkerModule } from '../worker-module.js';
import { startReportWorker } from './report-worker.js';

/** The cases and reports module. */
export const casesModule: WorkerModule = {
  name: 'cases',
  async start(context: WorkerContext): Promise<RunningWorkerModule> {
    const cases = new MongoCaseStore({ db: context.db });
    await cases.ensureIndexes();
    const service = new CaseService({
      cases,
      signals: new MongoAbuseSignalStore({ db: context.db }),
      licenses: context.keyward.licenses,
      plans: context.keyward.plans,
    });
    context.hooks.onSignal = async (signal) => {
      const result = await service.recordSignal(signal);
      // Every change that moves the score is logged with the case as stored, so the last line
      // about a case always shows the score its page shows (issue 16, item 13).
      const what = result.change === 'opened' || result.change === 'reopened' ? `abuse case ${result.change}` : 'abuse case updated';
      context.logger.info({ caseId: result.case.id, change: result.change, score: result.case.score, signals: result.case.timeline.length }, what);
      if (result.autoSuspension) {
        if (result.autoSuspension.ok) context.logger.warn({ caseId: result.case.id, score: result.case.score }, 'license suspended automatically');
        else context.logger.warn({ caseId: result.case.id, refusal: result.autoSuspension.refusal.code }, 'automatic suspension refused');
      }
    };
    const reports = new MongoReportStore({ db: context.db });
    await reports.ensureIndexes();
    const reportWorker = await startReportWorker({ context, reports });
    return {
      async stop() {
        delete context.hooks.onSignal;
        await reportWorker.stop();
      },
    };
  },
};
