/**
 * Admin-token revocations reach every server at once through the same Redis pub/sub bus that
 * carries license invalidations (RedisInvalidationBus), on a channel of their own: whoever
 * revokes (the CLI, an admin route) publishes the token id, and each server's AdminAuth drops
 * it from its cache. Without Redis (or a message lost while it was down) a server can still
 * accept a revoked token until its cached record ages out: AdminAuth's `cacheTtlMs`.
 */
import type { Redis } from 'ioredis';

import type { InvalidationBus } from '../../lib/service/invalidation-bus.js';
import type { AdminTokenRecord, AdminTokenStore } from '../../lib/store/admin-token-store.js';
import { RedisInvalidationBus } from '../../lib/store/redis-invalidation-bus.js';

/** The pub/sub channel of revoked token ids. */
export const ADMIN_TOKEN_REVOCATION_CHANNEL = 'keyward:admin-token-revocations';

/**
 * The revocation bus on `redis`: publishes on that connection, subscribes on a duplicate of it
 * (closed by the bus's `close()`).
 */
export function createAdminTokenRevocationBus(redis: Redis, onError: (error: unknown) => void): InvalidationBus {
  const subscriber = redis.duplicate();
  subscriber.on('error', onError);
  return new RedisInvalidationBus({ publisher: redis, subscriber, channel: ADMIN_TOKEN_REVOCATION_CHANNEL, onError });
}

/**
 * An {@link AdminTokenStore} that announces each revocation it makes on the bus, after the
 * store has recorded it (a server that drops its cache re-reads a revoked record).
 */
export class RevocationAnnouncingTokenStore implements AdminTokenStore {
  readonly #store: AdminTokenStore;
  readonly #announce: (tokenId: string) => void;

  /** @param announce - Publishes a revoked token id, e.g. `(id) => bus.publish(id)`. */
  constructor(store: AdminTokenStore, announce: (tokenId: string) => void) {
    this.#store = store;
    this.#announce = announce;
  }

  insert(record: AdminTokenRecord): Promise<void> {
    return this.#store.insert(record);
  }

  findById(id: string): Promise<AdminTokenRecord | null> {
    return this.#store.findById(id);
  }

  list(): Promise<AdminTokenRecord[]> {
    return this.#store.list();
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const revoked = await this.#store.revoke(id, at);
    if (revoked) this.#announce(id);
    return revoked;
  }

  touch(id: string, at: Date): Promise<void> {
    return this.#store.touch(id, at);
  }
}
