/**
 * The hot path's view of licenses: an in-process LRU in front of the store, keyed by key
 * digest. Entries live at most `maxStaleMs`, so even when an invalidation is lost (another
 * instance's message never arrived) a revoked or suspended key cannot validate for longer.
 * Unknown keys are cached too (as `null`), so a key-guessing sweep does not reach MongoDB for
 * every guess.
 */
import { LRUCache } from 'lru-cache';
import { ConfigurationError } from '../errors/keyward-error.js';
import type { License } from '../lifecycle/license.js';

/** Options for {@link LicenseCache}. */
export interface LicenseCacheOptions {
  /** Loads a license by key digest on a miss. Required. */
  readonly load: (keyDigest: string) => Promise<License | null>;
  /** Most entries kept. Default 200,000. */
  readonly maxEntries?: number;
  /** Longest time an entry is served without a reload, in ms. Default 5,000. */
  readonly maxStaleMs?: number;
}

interface Entry {
  readonly license: License | null;
}

/** LRU cache of licenses by key digest, with concurrent misses for one key sharing one load. */
export class LicenseCache {
  readonly #cache: LRUCache<string, Entry>;
  readonly #load: (keyDigest: string) => Promise<License | null>;

  constructor(options: LicenseCacheOptions) {
    const maxEntries = options.maxEntries ?? 200_000;
    const maxStaleMs = options.maxStaleMs ?? 5_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new ConfigurationError('cache.maxEntries', 'must be a positive integer');
    if (!Number.isInteger(maxStaleMs) || maxStaleMs < 1) throw new ConfigurationError('cache.maxStaleMs', 'must be a positive integer (ms)');
    this.#load = options.load;
    this.#cache = new LRUCache<string, Entry>({
      max: maxEntries,
      ttl: maxStaleMs,
      // Age is checked on read; no timers per entry.
      ttlAutopurge: false,
      allowStale: false,
      fetchMethod: async (keyDigest) => ({ license: await options.load(keyDigest) }),
    });
  }

  /**
   * The license for a digest when memory holds a fresh enough entry (null: no license has this
   * key), else undefined. Never reads the store: the validate hot path answers from this without
   * a promise, and calls {@link get} only when it returns undefined.
   */
  peek(keyDigest: string): License | null | undefined {
    return this.#cache.get(keyDigest)?.license;
  }

  /** The license for a digest (null when none exists), from memory when fresh enough. */
  async get(keyDigest: string): Promise<License | null> {
    const hit = this.#cache.get(keyDigest);
    if (hit) return hit.license;
    try {
      const loaded = await this.#cache.fetch(keyDigest);
      return loaded?.license ?? null;
    } catch (error) {
      // The entry was invalidated while it loaded, so the load may predate the write: read
      // again, straight from the store, and leave caching to the next reader.
      if (!this.#aborted(error)) throw error;
      return this.#load(keyDigest);
    }
  }

  #aborted(error: unknown): boolean {
    return error instanceof Error && (['deleted', 'evicted', 'replaced', 'cleared'].includes(error.message) || error.name === 'AbortError');
  }

  /** Puts a license just written by this process (saves the next reader a load). */
  set(keyDigest: string, license: License | null): void {
    this.#cache.set(keyDigest, { license });
  }

  /** Drops an entry: the next read loads it again. */
  invalidate(keyDigest: string): void {
    this.#cache.delete(keyDigest);
  }

  /** Drops every entry. */
  clear(): void {
    this.#cache.clear();
  }

  /** Entries held. */
  get size(): number {
    return this.#cache.size;
  }
}
