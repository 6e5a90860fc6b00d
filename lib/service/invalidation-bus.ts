/** How license changes reach the caches of every server instance. */

/** Broadcasts key digests whose cached license is stale. */
export interface InvalidationBus {
  /** Tells every instance (this one included) to drop the entry. Never throws; never awaits delivery. */
  publish(keyDigest: string): void;
  /** Registers the handler that drops entries in this instance. */
  subscribe(handler: (keyDigest: string) => void): Promise<void>;
  close(): Promise<void>;
}
