/**
 * The worker (startWorker, with the modules a test chooses) on the test run's real Redis and
 * MongoDB, with a database and a BullMQ prefix of its own. Pass the server's `mongoDb` and
 * `events` to make a worker that shares a test server's data.
 */
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { onTestFinished } from 'vitest';

import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import type { WorkerConfig } from '../../worker/config.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';
import type { WorkerModule } from '../../worker/worker-module.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';
import { TEST_PLANS, TEST_SECRETS } from './keyward-fixture.js';

/** The configuration tests start from. */
export function testWorkerConfig(overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    redisUrl: redisUrl(),
    mongoUrl: mongoUrl(),
    mongoDb: uniqueName('wrk'),
    logLevel: 'silent',
    secrets: TEST_SECRETS,
    plans: loadPlanCatalogue(TEST_PLANS),
    expiryGraceMs: 0,
    events: { streamPrefix: uniqueName('events'), partitions: 4 },
    queuePrefix: uniqueName('q'),
    ...overrides,
  };
}

/** Options for {@link startTestWorker}. */
export interface TestWorkerOptions {
  /** Drop the database when the test ends. Default `true`; pass `false` when a server owns it. */
  readonly dropDatabase?: boolean;
}

/** Starts a worker for the current test and stops it (and drops its database) when the test ends. */
export async function startTestWorker(
  overrides: Partial<WorkerConfig>,
  modules: readonly WorkerModule[],
  options: TestWorkerOptions = {},
): Promise<RunningWorker & { readonly config: WorkerConfig }> {
  const config = testWorkerConfig(overrides);
  const worker = await startWorker(config, { modules, logger: pino({ level: 'silent' }) });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await worker.stop();
    if (options.dropDatabase ?? true) {
      const client = await new MongoClient(config.mongoUrl).connect();
      await client.db(config.mongoDb).dropDatabase();
      await client.close();
    }
  };
  onTestFinished(stop);
  return { context: worker.context, config, stop };
}
