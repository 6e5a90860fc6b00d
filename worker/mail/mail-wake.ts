/**
 * Wakes the mail sender: adds a `wake` job to the `{mail}` queue, for an outbox's `onEnqueued`
 * in the server or the worker. Fire and forget: the e-mail is already stored, and if Redis is
 * unreachable the scheduled sweep delivers it a few seconds later, so a failure is only logged.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { MAIL_JOBS, MAIL_QUEUE, type MailJobName, type MailJobPayload } from './mail-jobs.js';

/** Options for {@link MailWake}. */
export interface MailWakeOptions {
  /** Redis connection for the queue (shared; not closed by {@link MailWake.close}). Required. */
  readonly connection: Redis;
  /** BullMQ key prefix (KEYWARD_QUEUE_PREFIX). Required. */
  readonly prefix: string;
  /** Called when a wake job could not be added. Default: nothing. */
  readonly onError?: (error: unknown) => void;
}

/** Producer of `{mail}` jobs. */
export class MailWake {
  readonly queue: Queue;
  readonly #onError: (error: unknown) => void;

  constructor(options: MailWakeOptions) {
    this.queue = new Queue(MAIL_QUEUE, { connection: options.connection, prefix: options.prefix });
    this.queue.on('error', (error) => options.onError?.(error));
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Adds a job of the catalogue (payload typed by its name). */
  async add<Name extends MailJobName>(name: Name, payload: MailJobPayload<Name>): Promise<void> {
    await this.queue.add(name, payload, MAIL_JOBS[name].options);
  }

  /** Asks the sender to look at the outbox now; never throws, never waits. */
  wake(emailId?: string): void {
    this.add('wake', emailId === undefined ? {} : { emailId }).catch(this.#onError);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
