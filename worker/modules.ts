/**
 * The worker's capabilities, started in this order and stopped in reverse. A capability that
 * provides a hook (worker-hooks.ts) comes before the ones that call it.
 */
import { createAbuseDetectorModule } from './abuse/abuse-detector-module.js';
import { billingModule } from './billing/billing-module.js';
import { casesModule } from './cases/cases-module.js';
import { mailModule } from './mail/mail-module.js';
import { createMetricsModule, createWorkerRegistry } from './metrics/metrics-module.js';
import { createTrialWatchModule } from './trials/trial-watch-module.js';
import type { WorkerModule } from './worker-module.js';
import { webhooksModule } from './webhooks/webhooks-module.js';

/**
 * The production worker's Prometheus registry: modules that record metrics register in it, and
 * the metrics module serves it on WORKER_METRICS_PORT.
 */
export const WORKER_METRICS_REGISTRY = createWorkerRegistry();

/** Every module the production worker runs. */
export const WORKER_MODULES: readonly WorkerModule[] = [
  // First: it provides hooks.onSignal, which the detector and billing modules call.
  casesModule,
  // Before billing: it provides hooks.onTrialStarted.
  createAbuseDetectorModule({ registry: WORKER_METRICS_REGISTRY }),
  mailModule,
  billingModule,
  // After cases: it reports signals to hooks.onSignal.
  createTrialWatchModule(),
  webhooksModule,
  createMetricsModule({ registry: WORKER_METRICS_REGISTRY }),
];
