/**
 * The worker's capabilities, started in this order and stopped in reverse. A capability that
 * provides a hook (worker-hooks.ts) comes before the ones that call it.
 */
import { createMetricsModule, createWorkerRegistry } from './metrics/metrics-module.js';
import type { WorkerModule } from './worker-module.js';

/**
 * The production worker's Prometheus registry: modules that record metrics register in it, and
 * the metrics module serves it on WORKER_METRICS_PORT. The abuse detector joins with
 * `createAbuseStreamModule({ createProcessor: …, registry: WORKER_METRICS_REGISTRY })`
 * (worker/abuse/abuse-stream-module.ts) once the rules processor exists.
 */
export const WORKER_METRICS_REGISTRY = createWorkerRegistry();

/** Every module the production worker runs. */
export const WORKER_MODULES: readonly WorkerModule[] = [createMetricsModule({ registry: WORKER_METRICS_REGISTRY })];
