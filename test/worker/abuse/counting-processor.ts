/**
 * A real, idempotent processor for the consumer tests: one MongoDB document per event (by its
 * `eid`, else by partition and entry id), inserted once, with a delivery counter that shows how
 * often the consumers handed the event over. "Counted" = documents; "delivered twice" = an entry
 * a consumer reclaimed after another left it unacknowledged.
 */
import type { Collection, Db } from 'mongodb';

import type { EventBatchProcessor, StreamEntry } from '../../../lib/abuse/event-batch-processor.js';

/** One counted event. */
export interface CountedEvent {
  readonly _id: string;
  readonly partition: number;
  readonly entryId: string;
  readonly at: number;
  /** How many times a batch holding it was processed. */
  readonly deliveries: number;
}

/** Calls the test may hook into. */
export interface CountingProcessorHooks {
  /** Before a batch is applied; may wait (a consumer "busy" in the middle of work). */
  beforeBatch?(partition: number, entries: readonly StreamEntry[]): Promise<void> | void;
  /** After a batch's effects are stored. */
  afterBatch?(partition: number, entries: readonly StreamEntry[]): Promise<void> | void;
}

/** The collection the processor counts in. */
export function countedEvents(db: Db): Collection<CountedEvent> {
  return db.collection<CountedEvent>('counted_events');
}

/** See the module comment. */
export class CountingProcessor implements EventBatchProcessor {
  constructor(
    private readonly db: Db,
    private readonly hooks: CountingProcessorHooks = {},
  ) {}

  async process(partition: number, entries: readonly StreamEntry[]): Promise<void> {
    await this.hooks.beforeBatch?.(partition, entries);
    await countEntries(this.db, partition, entries);
    await this.hooks.afterBatch?.(partition, entries);
  }
}

/** Stores the entries' effects: one upsert each, idempotent by event id. */
export async function countEntries(db: Db, partition: number, entries: readonly StreamEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await countedEvents(db).bulkWrite(
    entries.map(({ id, event }) => ({
      updateOne: {
        filter: { _id: event.eid ?? `${partition}/${id}` },
        update: { $setOnInsert: { partition, entryId: id, at: event.at }, $inc: { deliveries: 1 } },
        upsert: true,
      },
    })),
    { ordered: true },
  );
}

/** Polls `condition` every 50 ms until it holds; fails with `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function eventually(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
