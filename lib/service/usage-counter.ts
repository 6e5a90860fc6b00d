/**
 * Monthly validation counts for quotas, kept off the hot path: counts are added in memory and
 * pushed to the shared store in the background (every `syncIntervalMs`), which answers with
 * the global total. A decision uses the last known total plus what this process counted
 * since, so quotas hold across instances to within one sync interval of traffic.
 */
import { ConfigurationError } from '../errors/keyward-error.js';

/** Shared monthly counters (Redis in production). */
export interface UsageStore {
  /** Adds `count` to the license's counter for `month` (`YYYY-MM`) and returns the new total. */
  add(licenseId: string, month: string, count: number): Promise<number>;
  /** Current total. */
  get(licenseId: string, month: string): Promise<number>;
  /**
   * Optional, for a store with round trips: adds to many counters at once (one round trip),
   * each answered with its new total or with the error that refused it.
   */
  addMany?(items: readonly UsageAddition[]): Promise<(number | Error)[]>;
  /** Optional, for a store with round trips: many totals at once. */
  getMany?(items: readonly UsageSubject[]): Promise<number[]>;
}

/** A license's counter for a month (`YYYY-MM`). */
export interface UsageSubject {
  readonly licenseId: string;
  readonly month: string;
}

/** A count to add to a license's counter for a month. */
export interface UsageAddition extends UsageSubject {
  readonly count: number;
}

/** Options for {@link UsageCounter}. */
export interface UsageCounterOptions {
  /** Shared counters; without one, counts are per process. */
  readonly store?: UsageStore;
  /** How often counts are pushed and totals refreshed, in ms. Default 1,000. */
  readonly syncIntervalMs?: number;
  /** Called when a sync fails (the counts are kept and retried). */
  readonly onError?: (error: unknown) => void;
}

interface Counter {
  readonly licenseId: string;
  readonly month: string;
  /** Total from the store at the last sync. */
  known: number;
  /** Counted here since. */
  pending: number;
  /** Read since the last sync: its total is worth refreshing. */
  touched: boolean;
}

/** `YYYY-MM` of a date, in UTC. */
export function usageMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** In-process quota counter with background sync. */
export class UsageCounter {
  /**
   * This month's counters by license. A new month starts an empty map: last month's counters
   * with counts to push are still in `#due`, so nothing is lost, and nothing is scanned.
   */
  #counters = new Map<string, Counter>();
  #month = '';
  /**
   * The counters the next sync visits (counts to push, or a total worth refreshing). A sync
   * visits only these: scanning every license validated this month each second stalled the
   * server's event loop when most validations are of different keys.
   */
  #due = new Set<Counter>();
  /** Counters seen for the first time in this event-loop round, whose totals are loaded together. */
  #unloaded: Counter[] = [];
  readonly #store: UsageStore | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | null = null;

  constructor(options: UsageCounterOptions = {}) {
    const interval = options.syncIntervalMs ?? 1_000;
    if (!Number.isInteger(interval) || interval < 10) {
      throw new ConfigurationError('usage.syncIntervalMs', 'must be an integer of at least 10 (ms)');
    }
    this.#store = options.store;
    this.#onError = options.onError ?? (() => undefined);
    if (this.#store) {
      this.#timer = setInterval(() => void this.sync(), interval);
      this.#timer.unref();
    }
  }

  /** Validations counted for the license this month, before the current one. */
  current(licenseId: string, now: Date): number {
    const counter = this.#counterFor(licenseId, usageMonth(now));
    this.#touch(counter);
    return counter.known + counter.pending;
  }

  /** Counts one validation. */
  increment(licenseId: string, now: Date): void {
    const counter = this.#counterFor(licenseId, usageMonth(now));
    counter.pending++;
    if (this.#store) this.#due.add(counter);
  }

  /** Total for a month: the store's count plus what is pending here. */
  async total(licenseId: string, month: string): Promise<number> {
    const local = month === this.#month ? this.#counters.get(licenseId) : undefined;
    const pending = local?.pending ?? 0;
    if (!this.#store) return (local?.month === month ? local.known : 0) + pending;
    return (await this.#store.get(licenseId, month)) + pending;
  }

  /** Pushes pending counts and refreshes totals of counters in use. One sync runs at a time. */
  async sync(): Promise<void> {
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  /** Stops the timer after a last sync. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.sync();
  }

  async #syncOnce(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    const due = [...this.#due];
    this.#due = new Set();
    if (due.length === 0) return;
    // Adding 0 reads the total: one command either way.
    const sent = due.map((counter) => {
      counter.touched = false;
      return counter.pending;
    });
    let results: (number | Error)[];
    try {
      results = await addAll(store, due.map((counter, index) => ({ licenseId: counter.licenseId, month: counter.month, count: sent[index]! })));
    } catch (error) {
      results = due.map(() => asError(error));
    }
    due.forEach((counter, index) => {
      const result = results[index] ?? new Error('usage counter update failed: no reply');
      if (result instanceof Error) {
        this.#touch(counter);
        this.#onError(result);
        return;
      }
      counter.pending -= sent[index]!; // counts made while the call was in flight stay pending
      counter.known = result;
    });
  }

  /** Marks a counter's total as worth refreshing at the next sync. */
  #touch(counter: Counter): void {
    counter.touched = true;
    if (this.#store) this.#due.add(counter);
  }

  #counterFor(licenseId: string, month: string): Counter {
    if (month > this.#month) {
      // A month that ends leaves its counters to the syncs that push what they hold.
      this.#month = month;
      this.#counters = new Map();
    } else if (month < this.#month) {
      // A clock that steps back over a month's start: counted, and pushed, in its own month.
      const late: Counter = { licenseId, month, known: 0, pending: 0, touched: false };
      this.#touch(late);
      return late;
    }
    let counter = this.#counters.get(licenseId);
    if (!counter) {
      counter = { licenseId, month, known: 0, pending: 0, touched: false };
      this.#counters.set(licenseId, counter);
      this.#touch(counter);
      this.#refresh(counter);
    }
    return counter;
  }

  /**
   * Loads the store's total for a counter seen for the first time, without waiting for it; the
   * counters first seen in one event-loop round are loaded in one call when the store can.
   */
  #refresh(counter: Counter): void {
    if (!this.#store) return;
    this.#unloaded.push(counter);
    if (this.#unloaded.length === 1) setImmediate(() => this.#loadUnloaded());
  }

  #loadUnloaded(): void {
    const store = this.#store;
    const counters = this.#unloaded;
    this.#unloaded = [];
    if (!store || counters.length === 0) return;
    // Through a promise, so that a store that throws instead of rejecting is reported too.
    Promise.resolve(counters)
      .then((subjects) => getAll(store, subjects))
      .then(
        (totals) =>
          counters.forEach((counter, index) => {
            counter.known = Math.max(counter.known, totals[index] ?? 0);
          }),
        (error: unknown) => this.#onError(error),
      );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Adds to many counters: in one call when the store can, else one call each. */
async function addAll(store: UsageStore, items: readonly UsageAddition[]): Promise<(number | Error)[]> {
  if (store.addMany) return store.addMany(items);
  return Promise.all(items.map(({ licenseId, month, count }) => Promise.resolve().then(() => store.add(licenseId, month, count)).catch(asError)));
}

/** Reads many totals: in one call when the store can, else one call each. */
async function getAll(store: UsageStore, items: readonly UsageSubject[]): Promise<number[]> {
  if (store.getMany) return store.getMany(items);
  return Promise.all(items.map(({ licenseId, month }) => store.get(licenseId, month)));
}
