import type { ValidationEvent } from '../events/validation-event.js';
/** One stream entry, decoded. `id` is the Redis stream entry id (`<ms>-<seq>`). */
export interface StreamEntry { readonly id: string; readonly event: ValidationEvent }
/** Applies a batch of one partition's entries, in order. Must be idempotent: the same entries
 *  applied again (after a crash before acknowledgement) must not double-count. Resolves only
 *  when every effect is stored; rejects on a fault (the batch is then retried, not acknowledged). */
export interface EventBatchProcessor {
  process(partition: number, entries: readonly StreamEntry[]): Promise<void>;
}
