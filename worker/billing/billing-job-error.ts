/**
 * Why a billing job did not finish, and whether trying again can help: the one place that maps
 * a job's outcome to retry or give up (BullMQ UnrecoverableError).
 */
import { UnrecoverableError } from 'bullmq';

import { KeywardError } from '../../lib/errors/keyward-error.js';

/** Closed list of reasons a billing job stops. */
export type BillingJobErrorCode =
  | 'EVENT_NOT_STORED'
  | 'MALFORMED_EVENT'
  | 'INVALID_JOB'
  | 'SUBSCRIPTION_NOT_SEEN'
  | 'CHARGE_NOT_LINKED'
  | 'INVOICE_NOT_LINKED'
  | 'UNKNOWN_PRICE'
  | 'NO_PRICE'
  | 'LICENSE_REFUSED'
  | 'STRIPE_API_UNAVAILABLE'
  | 'STRIPE_API_REFUSED'
  | 'SUBSCRIPTION_BUSY'
  | 'INTERNAL';

/** A billing job's failure, with whether a retry can help. */
export class BillingJobError extends KeywardError<{ readonly retry: boolean }> {
  override readonly name = 'BillingJobError' as const;
  readonly retry: boolean;

  constructor(code: BillingJobErrorCode, message: string, options: { retry: boolean; cause?: unknown }) {
    super(code, message, { context: { retry: options.retry }, cause: options.cause });
    this.retry = options.retry;
  }
}

/** How a failed job is recorded and what BullMQ should do next. */
export interface JobFailure {
  readonly code: string;
  readonly message: string;
  readonly retry: boolean;
}

/**
 * The failure of any error a job threw: billing errors say themselves; datastore faults and
 * concurrent-update storms are retried; anything else is an unexpected fault, also retried
 * (bounded by the job's attempts) so that a bug fix plus a replay recovers it.
 */
export function jobFailureOf(error: unknown): JobFailure {
  if (error instanceof BillingJobError) return { code: error.code, message: error.message, retry: error.retry };
  if (error instanceof KeywardError) return { code: error.code, message: error.message, retry: true };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retry: true };
}

/** The error to throw to BullMQ for a failure: UnrecoverableError when retrying cannot help. */
export function toBullmqError(failure: JobFailure): Error {
  return failure.retry ? new Error(`${failure.code}: ${failure.message}`) : new UnrecoverableError(`${failure.code}: ${failure.message}`);
}
