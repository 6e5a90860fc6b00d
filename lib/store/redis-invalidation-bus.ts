/** Cache invalidations across server instances over Redis pub/sub. */
import type { Redis } from 'ioredis';
import type { InvalidationBus } from '../service/invalidation-bus.js';

/** Options for {@link RedisInvalidationBus}. */
export interface RedisInvalidationBusOptions {
  /** Connection used to publish. */
  readonly publisher: Redis;
  /** Dedicated connection for subscribing (a subscribed connection can do nothing else); closed by close(). */
  readonly subscriber: Redis;
  /** Channel name. Default `keyward:license-invalidations`. */
  readonly channel?: string;
  /** Called when a publish fails; the entry still expires by the cache's age bound. */
  readonly onError?: (error: unknown) => void;
}

/** {@link InvalidationBus} on Redis pub/sub. Losing a message is bounded by the cache's maxStaleMs. */
export class RedisInvalidationBus implements InvalidationBus {
  readonly #options: RedisInvalidationBusOptions;
  readonly #channel: string;

  constructor(options: RedisInvalidationBusOptions) {
    this.#options = options;
    this.#channel = options.channel ?? 'keyward:license-invalidations';
  }

  publish(keyDigest: string): void {
    this.#options.publisher.publish(this.#channel, keyDigest).catch((error: unknown) => this.#options.onError?.(error));
  }

  async subscribe(handler: (keyDigest: string) => void): Promise<void> {
    this.#options.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) handler(message);
    });
    await this.#options.subscriber.subscribe(this.#channel);
  }

  async close(): Promise<void> {
    const { subscriber } = this.#options;
    if (subscriber.status === 'ready') await subscriber.quit().catch(() => subscriber.disconnect());
    else subscriber.disconnect();
  }
}
