/**
 * Calls between worker modules, so that no module imports another: the composition root fills
 * them in. Each is optional; a module that calls one must work when it is absent.
 */
import type { AbuseSignal } from '../lib/abuse/abuse-signal.js';
import type { TrialRegistration } from '../lib/abuse/trial-registration.js';

/** Hooks a module may call. Mutable: modules that provide one set it when they start. */
export interface WorkerHooks {
  /**
   * Billing calls this when it issues a trial license, so the abuse detector can look for trial
   * cycling. Must be idempotent (the same registration may arrive twice).
   */
  onTrialStarted?: (trial: TrialRegistration) => Promise<void>;
  /**
   * The abuse detector calls this after it stored a signal, so the case roll-up can score it;
   * billing calls it for a payment dispute. Must be idempotent per `signal.id`.
   */
  onSignal?: (signal: AbuseSignal) => Promise<void>;
}
