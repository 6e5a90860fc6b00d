/**
 * Builds the abuse detector from the worker context, for the module that consumes the event
 * streams (which owns the consumer groups and calls `process`): signals go to the
 * `onSignal` hook, and the detector provides the `onTrialStarted` hook for billing.
 */
import { AbuseDetector } from '../../lib/service/abuse-detector.js';
import type { WorkerContext } from '../worker-module.js';

/**
 * A detector on the context's database and shared Redis connection, keys under
 * `<queuePrefix>:abuse:{<partition>}:…`, indexes created. Sets `context.hooks.onTrialStarted`.
 * The `onSignal` hook is read when a signal is stored, so a module that provides it may start
 * later.
 */
export async function createAbuseDetector(context: WorkerContext): Promise<AbuseDetector> {
  const detector = new AbuseDetector({
    db: context.db,
    redis: context.redis,
    licenses: context.keyward.licenses,
    plans: context.keyward.plans,
    keyPrefix: context.queuePrefix,
    onSignal: async (signal) => {
      await context.hooks.onSignal?.(signal);
    },
  });
  await detector.ensureIndexes();
  context.hooks.onTrialStarted = (trial) => detector.registerTrial(trial);
  return detector;
}
