/**
 * The abuse detector as the worker runs it: the stream consumers (abuse-stream-module.ts) with
 * the detection rules (lib/service/abuse-detector.ts) as their processor. It stores signals and
 * passes each to `hooks.onSignal` (the case roll-up), and provides `hooks.onTrialStarted` for
 * billing, so trial cycling is checked as each trial starts.
 */
import type { Registry } from 'prom-client';

import type { WorkerModule } from '../worker-module.js';
import { createAbuseStreamModule, type RunningAbuseStream } from './abuse-stream-module.js';
import { createAbuseDetector } from './create-abuse-detector.js';

/** Options for {@link createAbuseDetectorModule}. */
export interface AbuseDetectorModuleOptions {
  /** Registry for the consumer metrics (lag, backlog, throughput). Default: none. */
  readonly registry?: Registry;
  /** Idle time before a crashed consumer's entries are reclaimed, in ms. Default: config, then 30,000. */
  readonly claimIdleMs?: number;
}

/** The detector module. Its window keys are `<queue prefix>:abuse:{n}:…` (see create-abuse-detector.ts). */
export function createAbuseDetectorModule(options: AbuseDetectorModuleOptions = {}): WorkerModule & { readonly running: () => RunningAbuseStream | undefined } {
  return createAbuseStreamModule({
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.claimIdleMs === undefined ? {} : { claimIdleMs: options.claimIdleMs }),
    createProcessor: createAbuseDetector,
  });
}
