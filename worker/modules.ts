/**
 * The worker's capabilities, started in this order and stopped in reverse. A capability that
 * provides a hook (worker-hooks.ts) comes before the ones that call it.
 */
import { billingModule } from './billing/billing-module.js';
import type { WorkerModule } from './worker-module.js';

/** Every module the production worker runs. */
export const WORKER_MODULES: readonly WorkerModule[] = [billingModule];
