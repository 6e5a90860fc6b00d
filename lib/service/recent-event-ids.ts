/**
 * Event ids (`eid`) a detector applied lately. The server's sink may append one validation twice
 * (it retries a batch whose reply was lost); both entries carry the same `eid`, and counting
 * them once needs only the ids of the last few batches. The per-partition checkpoint covers the
 * other kind of repeat, the same entries delivered again.
 */
import { LRUCache } from 'lru-cache';

import type { StreamEntry } from '../abuse/event-batch-processor.js';

/** Options for {@link RecentEventIds}. */
export interface RecentEventIdsOptions {
  /** Ids remembered, over all partitions. Default 200,000 (a few seconds of peak traffic, ~20 MB). */
  readonly maxIds?: number;
}

/** The ids of recently applied events. */
export class RecentEventIds {
  readonly #ids: LRUCache<string, true>;

  constructor(options: RecentEventIdsOptions = {}) {
    this.#ids = new LRUCache({ max: options.maxIds ?? 200_000 });
  }

  /** The entries whose event was neither applied lately nor seen earlier in this batch. */
  fresh(entries: readonly StreamEntry[]): readonly StreamEntry[] {
    const seen = new Set<string>();
    let repeats = false;
    for (const { event } of entries) {
      if (event.eid === undefined) continue;
      if (this.#ids.has(event.eid) || seen.has(event.eid)) repeats = true;
      seen.add(event.eid);
    }
    if (!repeats) return entries;
    seen.clear();
    return entries.filter(({ event }) => {
      if (event.eid === undefined) return true;
      if (this.#ids.has(event.eid) || seen.has(event.eid)) return false;
      seen.add(event.eid);
      return true;
    });
  }

  /** Records a batch's ids, once its effects are stored (a batch that failed is retried whole). */
  remember(entries: readonly StreamEntry[]): void {
    for (const { event } of entries) if (event.eid !== undefined) this.#ids.set(event.eid, true);
  }
}
