/**
 * How the server wires the review console: sessions and cases on the server's database, token
 * checks through the admin API's {@link AdminAuth}, and report requests on the same BullMQ queue
 * as `POST /v1/admin/reports` (the worker's `cases` module makes them). Webhook endpoints use the
 * same store and outbox as the admin API's webhook routes.
 */
import type { Router } from '@koa/router';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';

import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { REPORT_JOB_RETRY, REPORT_JOBS, REPORT_QUEUE } from '../../lib/abuse/report-jobs.js';
import { CaseService } from '../../lib/service/case-service.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import { ReportService } from '../../lib/service/report-service.js';
import { MongoAbuseSignalStore } from '../../lib/store/mongo-abuse-signal-store.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { MongoReportStore } from '../../lib/store/mongo-report-store.js';
import { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import { ConsoleAuth } from './console-auth.js';
import { addConsoleRoutes } from './console-routes.js';
import { MongoConsoleSessionStore } from './console-session-store.js';

/** What {@link wireConsole} needs. */
export interface ConsoleWiring {
  readonly keyward: Keyward;
  readonly db: Db;
  /** A command connection the report producer may share (not closed here). */
  readonly redis: Redis;
  /** BullMQ key prefix, the same as the worker's. */
  readonly queuePrefix: string;
  readonly adminAuth: AdminAuth;
  /**
   * KEYWARD_ENCRYPTION_KEY, which the webhook endpoint store is built with, as for the admin API
   * (the console never reads a signing secret). Required.
   */
  readonly encryptionKey: string;
  /** As TRUSTED_PROXIES: whose `X-Forwarded-Proto: https` marks the session cookie Secure. Default none. */
  readonly trustedProxies?: readonly string[];
  /** Session length in ms. Default 8 hours. */
  readonly sessionTtlMs?: number;
  /** Registers the report queue's close with the server's shutdown. */
  readonly onStop?: (cleanup: () => Promise<void>) => void;
}

/** Adds `/console` to the router. */
export function wireConsole(router: Router, wiring: ConsoleWiring): void {
  let queue: Queue | undefined;
  wiring.onStop?.(async () => {
    await queue?.close();
  });
  const reportStore = new MongoReportStore({ db: wiring.db });
  addConsoleRoutes(router, {
    auth: new ConsoleAuth({
      adminAuth: wiring.adminAuth,
      tokens: new MongoAdminTokenStore({ db: wiring.db }),
      sessions: new MongoConsoleSessionStore({ db: wiring.db }),
      ...(wiring.trustedProxies === undefined ? {} : { trustedProxies: wiring.trustedProxies }),
      ...(wiring.sessionTtlMs === undefined ? {} : { sessionTtlMs: wiring.sessionTtlMs }),
    }),
    cases: new CaseService({
      cases: new MongoCaseStore({ db: wiring.db }),
      signals: new MongoAbuseSignalStore({ db: wiring.db }),
      licenses: wiring.keyward.licenses,
      plans: wiring.keyward.plans,
    }),
    licenses: wiring.keyward.licenses,
    db: wiring.db,
    reports: new ReportService({ db: wiring.db, reports: reportStore }),
    reportStore,
    webhookEndpoints: new MongoWebhookEndpointStore({ db: wiring.db, cipher: createKeyCipher(wiring.encryptionKey) }),
    webhookDeliveries: new MongoWebhookOutbox({ db: wiring.db }),
    async enqueueReport(reportId) {
      queue ??= new Queue(REPORT_QUEUE, { connection: wiring.redis, prefix: wiring.queuePrefix });
      const data = REPORT_JOBS['generate-report'].parse({ reportId });
      await queue.add('generate-report', data, { ...REPORT_JOB_RETRY, jobId: reportId, removeOnComplete: 100, removeOnFail: 500 });
    },
  });
}
