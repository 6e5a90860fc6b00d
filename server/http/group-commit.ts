/**
 * Group commit: callers submit one item each and wait for their own result, while the items are
 * written in batches, one round trip per batch. A batch starts as soon as nothing is being
 * written (no added delay when the load is light); items that arrive during a write wait for it
 * and go together in the next batch, so the batch size follows the load. Written for the Stripe
 * webhook, whose burst of deliveries would otherwise cost one MongoDB insert and one BullMQ add
 * (a socket write and a server command each) per event.
 *
 * DataLoader batches per event-loop tick only; collecting while a write is in flight is what
 * makes the batches grow under load, hence this small class.
 */

/** One item's result from {@link GroupCommitOptions.write}: a value, or the error for that item only. */
export type GroupCommitResult<Out> = { readonly ok: true; readonly value: Out } | { readonly ok: false; readonly error: unknown };

/** Options for {@link GroupCommit}. */
export interface GroupCommitOptions<In, Out> {
  /**
   * Writes a batch and answers one result per item, in order. Throwing fails every item of the
   * batch. Required.
   */
  readonly write: (items: readonly In[]) => Promise<ReadonlyArray<GroupCommitResult<Out>>>;
  /** Largest batch. Default 200. */
  readonly maxBatch?: number;
  /** Batches written at once. Default 2 (one being written while the next is sent). */
  readonly maxInFlight?: number;
}

interface Waiting<In, Out> {
  readonly item: In;
  readonly resolve: (value: Out) => void;
  readonly reject: (error: unknown) => void;
}

/** A batcher of writes (see the module comment). */
export class GroupCommit<In, Out> {
  readonly #write: GroupCommitOptions<In, Out>['write'];
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #waiting: Array<Waiting<In, Out>> = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(options: GroupCommitOptions<In, Out>) {
    this.#write = options.write;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#maxInFlight = options.maxInFlight ?? 2;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!Number.isInteger(this.#maxInFlight) || this.#maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
  }

  /** Writes the item with others; resolves with its own result once its batch is written. */
  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) return;
    this.#scheduled = true;
    // After the current tick: the requests whose bodies arrived together join one batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
      // Leave the rest for when a write finishes, so the next batch gathers more items.
      if (this.#waiting.length < this.#maxBatch) break;
    }
  }

  async #run(batch: ReadonlyArray<Waiting<In, Out>>): Promise<void> {
    let results: ReadonlyArray<GroupCommitResult<Out>>;
    try {
      results = await this.#write(batch.map((waiting) => waiting.item));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const result = results[index];
      if (result === undefined) waiting.reject(new Error('group commit: the write answered fewer results than items'));
      else if (result.ok) waiting.resolve(result.value);
      else waiting.reject(result.error);
    });
  }
}
