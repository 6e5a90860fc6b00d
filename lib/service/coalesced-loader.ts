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
 * for a timer. A batch that reaches `maxBatchSize` is sent at once.
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
}

interface Waiter<V> {
  readonly resolve: (value: V | null) => void;
  readonly reject: (error: unknown) => void;
}

/** A loader of values by key that sends the loads asked for in one event-loop round as one. */
export class CoalescedLoader<V> {
  readonly #loadMany: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  readonly #maxBatchSize: number;
  /** The batch being gathered: key → the promise every caller of that key shares. */
  #pending = new Map<string, { readonly promise: Promise<V | null>; readonly waiter: Waiter<V> }>();
  #scheduled: NodeJS.Immediate | undefined;
  #batches = 0;

  constructor(options: CoalescedLoaderOptions<V>) {
    const maxBatchSize = options.maxBatchSize ?? 256;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new ConfigurationError('loader.maxBatchSize', 'must be a positive integer');
    this.#loadMany = options.loadMany;
    this.#maxBatchSize = maxBatchSize;
  }

  /** The value for `key`, or null when the store has none; loaded with the other keys of this round. */
  load(key: string): Promise<V | null> {
    const gathered = this.#pending.get(key);
    if (gathered !== undefined) return gathered.promise;
    let waiter: Waiter<V> | undefined;
    const promise = new Promise<V | null>((resolve, reject) => (waiter = { resolve, reject }));
    this.#pending.set(key, { promise, waiter: waiter as Waiter<V> });
    if (this.#pending.size >= this.#maxBatchSize) this.#send();
    else this.#scheduled ??= setImmediate(this.#sendScheduled);
    return promise;
  }

  /** Queries sent so far (a measure of how well loads coalesce: loads per batch). */
  get batches(): number {
    return this.#batches;
  }

  readonly #sendScheduled = (): void => {
    this.#scheduled = undefined;
    this.#send();
  };

  #send(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const batch = this.#pending;
    if (batch.size === 0) return;
    this.#pending = new Map();
    this.#batches += 1;
    const keys = [...batch.keys()];
    let loading: Promise<ReadonlyMap<string, V>>;
    try {
      loading = this.#loadMany(keys);
    } catch (error) {
      loading = Promise.reject(error);
    }
    loading.then(
      (found) => {
        for (const [key, { waiter }] of batch) waiter.resolve(found.get(key) ?? null);
      },
      (error: unknown) => {
        for (const { waiter } of batch.values()) waiter.reject(error);
      },
    );
  }
}
