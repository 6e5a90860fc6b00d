/**
 * Event ids (`eid`) a detector applied lately. The server's sink may append one validation twice
 * (it retries a batch whose reply was lost); both entries carry the same `eid`, and counting
 * them once needs only the ids of the last few batches. The per-partition checkpoint covers the
 * other kind of repeat, the same entries delivered again.
 *
 * Two generations of ids rather than an LRU: an id is added once and never read back into
 * recency, so dropping the older half at once forgets the same ids an LRU would, with a Set
 * insert per event instead of an LRU update (this runs for every event the detector sees).
 */
import type { StreamEntry } from '../abuse/event-batch-processor.js';

/** Options for {@link RecentEventIds}. */
export interface RecentEventIdsOptions {
  /**
   * Most ids remembered, over all partitions; the latest `maxIds / 2` are always remembered.
   * Default 200,000 (a few seconds of peak traffic, ~20 MB).
   */
  readonly maxIds?: number;
}

/** The ids of recently applied events. */
export class RecentEventIds {
  readonly #generation: number;
  #current = new Set<string>();
  #previous = new Set<string>();

  constructor(options: RecentEventIdsOptions = {}) {
    const maxIds = options.maxIds ?? 200_000;
    if (!Number.isInteger(maxIds) || maxIds < 2) throw new Error(`maxIds must be an integer of at least 2, got ${maxIds}`);
    this.#generation = Math.floor(maxIds / 2);
  }

  /** Whether an id was applied lately. */
  has(eid: string): boolean {
    return this.#current.has(eid) || this.#previous.has(eid);
  }

  /** The entries whose event was neither applied lately nor seen earlier in this batch. */
  fresh(entries: readonly StreamEntry[]): readonly StreamEntry[] {
    const seen = new Set<string>();
    let repeats = false;
    for (const { event } of entries) {
      if (event.eid === undefined) continue;
      if (this.has(event.eid) || seen.has(event.eid)) repeats = true;
      seen.add(event.eid);
    }
    if (!repeats) return entries;
    seen.clear();
    return entries.filter(({ event }) => {
      if (event.eid === undefined) return true;
      if (this.has(event.eid) || seen.has(event.eid)) return false;
      seen.add(event.eid);
      return true;
    });
  }

  /** Records a batch's ids, once its effects are stored (a batch that failed is retried whole). */
  remember(entries: readonly StreamEntry[]): void {
    for (const { event } of entries) {
      if (event.eid === undefined) continue;
      if (this.#current.size >= this.#generation) {
        this.#previous = this.#current;
        this.#current = new Set();
      }
      this.#current.add(event.eid);
    }
  }
}
