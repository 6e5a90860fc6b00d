/**
 * The outbox as other worker modules (billing, lifecycle jobs) should build it: new e-mails wake
 * the mail sender through the `{mail}` queue at once instead of waiting for the next sweep.
 * Modules do not import each other; this is the mail capability's public entry for them.
 */
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import type { WorkerContext } from '../worker-module.js';
import { MailWake } from './mail-wake.js';

/** An outbox that wakes the sender, and what to close on the module's stop. */
export interface WorkerOutbox {
  readonly outbox: MongoEmailOutbox;
  /** Closes the wake queue (the Redis connection is the worker's, closed by it). */
  close(): Promise<void>;
}

/**
 * Builds the outbox for a worker module.
 *
 * @param purpose - Names the Redis connection in CLIENT LIST, e.g. `billing`.
 */
export function createWorkerOutbox(context: WorkerContext, purpose: string): WorkerOutbox {
  const wake = new MailWake({
    connection: context.createRedis(`${purpose}-mail-wake`),
    prefix: context.queuePrefix,
    onError: (error) => context.logger.warn({ err: error, module: purpose }, 'could not wake the mail sender; the next sweep sends the e-mail'),
  });
  return {
    outbox: new MongoEmailOutbox({ db: context.db, onEnqueued: (id) => wake.wake(id) }),
    close: () => wake.close(),
  };
}
