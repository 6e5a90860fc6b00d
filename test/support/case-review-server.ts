/**
 * The server as production wires it (serverWiring: admin, case and report routes) plus a worker
 * running the `cases` module on the same database and queue prefix, with admin tokens of each
 * scope and helpers to issue licenses and raise signals. For the case and report route tests.
 */
import { MongoClient } from 'mongodb';
import { onTestFinished } from 'vitest';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { serverWiring } from '../../server/main.js';
import { casesModule } from '../../worker/cases/cases-module.js';
import type { RunningWorker } from '../../worker/main.js';
import { raiseSignal } from './abuse-signals.js';
import { callAdminApi, type Answer, type CallOptions } from './admin-server.js';
import { TEST_PLANS } from './keyward-fixture.js';
import { startTestServer, type TestServer } from './server-fixture.js';
import { startTestWorker } from './worker-fixture.js';

/** A running server and worker pair. */
export interface CaseReviewServer {
  readonly server: TestServer;
  readonly worker: RunningWorker;
  readonly writeToken: string;
  readonly writeTokenId: string;
  readonly readToken: string;
  /** Calls the API with the write token unless `token` says otherwise (`null`: none). */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** Issues a license on `planId` and answers its id. */
  issue(planId?: string): Promise<string>;
  /** Stores a signal and calls the worker's hook, as the detector does. */
  raise(signal: AbuseSignal): Promise<void>;
}

/** Starts both for the current test; they stop when it ends. */
export async function startCaseReviewServer(): Promise<CaseReviewServer> {
  const server = await startTestServer({}, serverWiring);
  const worker = await startTestWorker(
    { mongoDb: server.config.mongoDb, queuePrefix: server.config.queuePrefix, plans: loadPlanCatalogue(TEST_PLANS) },
    [casesModule],
    { dropDatabase: false },
  );
  const client = await new MongoClient(server.config.mongoUrl).connect();
  onTestFinished(() => client.close());
  const tokenStore = new MongoAdminTokenStore({ db: client.db(server.config.mongoDb) });
  const now = new Date();
  const write = await createAdminToken(tokenStore, { name: 'case-writer', scope: 'write' }, now);
  const read = await createAdminToken(tokenStore, { name: 'case-reader', scope: 'read' }, now);
  return {
    server,
    worker,
    writeToken: write.token,
    writeTokenId: write.record.id,
    readToken: read.token,
    call: (method, path, options = {}) => callAdminApi(server.url, write.token, method, path, options),
    async issue(planId = 'pro') {
      const issued = await server.server.keyward.licenses.issue({ planId });
      if (!issued.ok) throw new Error(issued.refusal.message);
      return issued.value.record.license.id;
    },
    raise: (signal) => raiseSignal(worker.context.db, worker.context.hooks, signal),
  };
}
