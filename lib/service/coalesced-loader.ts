/**
 * Coalesces single-key loads into batched ones: every load asked for while the event loop is
 * busy with one round of I/O goes to the store in one query (`find({keyDigest: {$in: [...]}})`)
 * when that round ends, instead of one round trip each.
 *
 * Why: real client software validates once per launch, so most validations are cache misses;
 * one `findOne` per miss made MongoDB round trips, not the validation, the limit of the miss
 * path (issue 15). A batch costs the database one index lookup per key, as the single reads
 * did, but the driver, the wire and the server's request handling once per batch.
 *
 * The batch is sent from `setImmediate`, which runs after the poll phase in which the requests
 * were read: every request that arrived in one read of the sockets is in it, and none waits
 * for a timer. A batch that reaches `maxBatchSize` is sent at once. At most `maxInFlight`
 * queries are out at a time; while they are, new misses gather into the next batch (as a group
 * commit does), so under load the batches grow instead of the queries multiplying.
 *
 * Invariants (test/service/coalesced-loader.test.ts): each caller gets the value for its own
 * key, or `null` when the store has none, exactly as a load of that key alone would give; a
 * key asked for twice before its batch is sent is loaded once; a failed batch rejects every
 * caller in it with the store's error.
 */
import { ConfigurationError } from '../errors/keyward-error.js';

/** Options for {@link CoalescedLoader}. */
export interface CoalescedLoaderOptions<V> {
  /**
   * Loads many keys in one query; returns the values found, keyed by their key (keys not found
   * are left out). Required.
   */
  readonly loadMany: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Most keys per query; a batch this size is sent at once. Default 256. */
  readonly maxBatchSize?: number;
  /** Most queries out at once; further misses wait for one to return, gathering. Default 4. */
  readonly maxInFlight?: number;
}

interface Waiter<V> {
  readonly resolve: (value: V | null) => void;
  readonly reject: (error: unknown) => void;
}

/** A loader of values by key that sends the loads asked for in one event-loop round as one. */
export class CoalescedLoader<V> {
  readonly #loadMany: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  readonly #maxBatchSize: number;
  readonly #maxInFlight: number;
  /** The keys being gathered, in order: key → the promise every caller of that key shares. */
  readonly #pending = new Map<string, { readonly promise: Promise<V | null>; readonly waiter: Waiter<V> }>();
  #scheduled: NodeJS.Immediate | undefined;
  #inFlight = 0;
  #batches = 0;

  constructor(options: CoalescedLoaderOptions<V>) {
    const maxBatchSize = options.maxBatchSize ?? 256;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new ConfigurationError('loader.maxBatchSize', 'must be a positive integer');
    const maxInFlight = options.maxInFlight ?? 4;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new ConfigurationError('loader.maxInFlight', 'must be a positive integer');
    this.#loadMany = options.loadMany;
    this.#maxBatchSize = maxBatchSize;
    this.#maxInFlight = maxInFlight;
  }

  /** The value for `key`, or null when the store has none; loaded with the other keys of this round. */
  load(key: string): Promise<V | null> {
    const gathered = this.#pending.get(key);
    if (gathered !== undefined) return gathered.promise;
    let waiter: Waiter<V> | undefined;
    const promise = new Promise<V | null>((resolve, reject) => (waiter = { resolve, reject }));
    this.#pending.set(key, { promise, waiter: waiter as Waiter<V> });
    if (this.#pending.size >= this.#maxBatchSize && this.#inFlight < this.#maxInFlight) this.#send();
    else this.#schedule();
    return promise;
  }

  /** Queries sent so far (a measure of how well loads coalesce: loads per batch). */
  get batches(): number {
    return this.#batches;
  }

  #schedule(): void {
    if (this.#scheduled === undefined) this.#scheduled = setImmediate(this.#sendScheduled);
  }

  readonly #sendScheduled = (): void => {
    this.#scheduled = undefined;
    while (this.#pending.size > 0 && this.#inFlight < this.#maxInFlight) this.#send();
  };

  /** Sends the first `maxBatchSize` gathered keys as one query. */
  #send(): void {
    const batch = new Map<string, Waiter<V>>();
    for (const [key, { waiter }] of this.#pending) {
      if (batch.size === this.#maxBatchSize) break;
      batch.set(key, waiter);
      this.#pending.delete(key);
    }
    this.#batches += 1;
    this.#inFlight += 1;
    let loading: Promise<ReadonlyMap<string, V>>;
    try {
      loading = this.#loadMany([...batch.keys()]);
    } catch (error) {
      loading = Promise.reject(error);
    }
    loading
      .then(
        (found) => {
          for (const [key, waiter] of batch) waiter.resolve(found.get(key) ?? null);
        },
        (error: unknown) => {
          for (const waiter of batch.values()) waiter.reject(error);
        },
      )
      .finally(() => {
        this.#inFlight -= 1;
        // What gathered while this query was out goes now, in this round's check phase.
        if (this.#pending.size > 0) this.#schedule();
      });
  }
}
