/**
 * How the server wires case review and reports: the services on the server's database, and a
 * BullMQ producer for report jobs on the server's Redis connection under the configured queue
 * prefix (the worker's `cases` module consumes them).
 */
import type { Router } from '@koa/router';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';

import { REPORT_JOB_RETRY, REPORT_JOBS, REPORT_QUEUE } from '../../lib/abuse/report-jobs.js';
import { CaseService } from '../../lib/service/case-service.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import { ReportService } from '../../lib/service/report-service.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { MongoReportStore } from '../../lib/store/mongo-report-store.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import { addAdminCaseRoutes } from './admin-case-routes.js';

/** What {@link wireAdminCaseRoutes} needs. */
export interface AdminCaseWiring {
  readonly keyward: Keyward;
  readonly db: Db;
  /** A command connection the producer may share (it is not closed here). */
  readonly redis: Redis;
  /** BullMQ key prefix, the same as the worker's. */
  readonly queuePrefix: string;
  readonly auth: AdminAuth;
  /** Registers the report queue's close with the server's shutdown. Default: not closed. */
  readonly onStop?: (cleanup: () => Promise<void>) => void;
}

/** Adds the case and report routes, wired to MongoDB and the report queue. */
export function wireAdminCaseRoutes(router: Router, wiring: AdminCaseWiring): void {
  let queue: Queue | undefined;
  wiring.onStop?.(async () => {
    await queue?.close();
  });
  addAdminCaseRoutes(router, {
    auth: wiring.auth,
    cases: new CaseService({
      cases: new MongoCaseStore({ db: wiring.db }),
      signals: new MongoAbuseSignalStore({ db: wiring.db }),
      licenses: wiring.keyward.licenses,
      plans: wiring.keyward.plans,
    }),
    reports: new ReportService({ db: wiring.db, reports: new MongoReportStore({ db: wiring.db }) }),
    reportStore: new MongoReportStore({ db: wiring.db }),
    async enqueueReport(reportId) {
      queue ??= new Queue(REPORT_QUEUE, { connection: wiring.redis, prefix: wiring.queuePrefix });
      const data = REPORT_JOBS['generate-report'].parse({ reportId });
      await queue.add('generate-report', data, { ...REPORT_JOB_RETRY, jobId: reportId, removeOnComplete: 100, removeOnFail: 500 });
    },
  });
}
