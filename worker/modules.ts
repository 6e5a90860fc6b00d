/**
 * The worker's capabilities, started in this order and stopped in reverse. A capability that
 * provides a hook (worker-hooks.ts) comes before the ones that call it.
 */
import { casesModule } from './cases/cases-module.js';
import { mailModule } from './mail/mail-module.js';
import type { WorkerModule } from './worker-module.js';

/** Every module the production worker runs. */
export const WORKER_MODULES: readonly WorkerModule[] = [
  // First: it provides hooks.onSignal, which the detector and billing modules call.
  casesModule,
  mailModule,
];
