/**
 * The abuse detector as the worker runs it: the stream consumers (abuse-stream-module.ts) with
 * the detection rules (lib/service/abuse-detector.ts) as their processor. It stores signals and
 * passes each to `hooks.onSignal` (the case roll-up), and provides `hooks.onTrialStarted` for
 * billing, so trial cycling is checked as each trial starts.
 */
import type { Registry } from 'prom-client';

import { AbuseDetector } from '../../lib/service/abuse-detector.js';
import type { WorkerModule } from '../worker-module.js';
import { createAbuseStreamModule, type RunningAbuseStream } from './abuse-stream-module.js';

/** Options for {@link createAbuseDetectorModule}. */
export interface AbuseDetectorModuleOptions {
  /** Registry for the consumer metrics (lag, backlog, throughput). Default: none. */
  readonly registry?: Registry;
  /** Idle time before a crashed consumer's entries are reclaimed, in ms. Default: config, then 30,000. */
  readonly claimIdleMs?: number;
}

/** The detector module. Its window keys live beside the streams: `<stream prefix>:abuse:{n}:…`. */
export function createAbuseDetectorModule(options: AbuseDetectorModuleOptions = {}): WorkerModule & { readonly running: () => RunningAbuseStream | undefined } {
  return createAbuseStreamModule({
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.claimIdleMs === undefined ? {} : { claimIdleMs: options.claimIdleMs }),
    async createProcessor(context) {
      const detector = new AbuseDetector({
        db: context.db,
        redis: context.redis,
        licenses: context.keyward.licenses,
        plans: context.keyward.plans,
        keyPrefix: context.config.events.streamPrefix,
        // Read at call time: the cases module sets the hook when it starts.
        onSignal: async (signal) => {
          await context.hooks.onSignal?.(signal);
        },
      });
      await detector.ensureIndexes();
      context.hooks.onTrialStarted = (trial) => detector.registerTrial(trial);
      return detector;
    },
  });
}
