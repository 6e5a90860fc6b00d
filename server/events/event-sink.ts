/**
 * The port through which the validation route records events. The route depends on this
 * interface only, so its tests can pass a sink of their own; the Redis implementation is
 * redis-stream-event-sink.ts beside it.
 */
import type { ValidationEvent } from '../../lib/events/validation-event.js';

/** Counters of a sink since it was created. */
export interface EventSinkStats {
  /** Events held in memory, waiting for delivery (including a batch in flight). */
  readonly buffered: number;
  /** Events the store has acknowledged. */
  readonly appended: number;
  /** Events given up: the buffer was full, the sink was closed, or the store refused them for good. */
  readonly dropped: number;
  /** Delivery attempts that failed, wholly or in part (each is retried). */
  readonly failedFlushes: number;
}

/** Where validation events go: fire-and-forget for the caller, delivered in the background. */
export interface EventSink {
  /**
   * Hands an event over for delivery. Synchronous, never throws and never waits: the validation
   * answer must not depend on analytics (design.md, Validation).
   */
  append(event: ValidationEvent): void;
  /** Current counters; cheap enough to call on every metrics scrape. */
  stats(): EventSinkStats;
  /** Delivers what can be delivered now; resolves (never rejects) when done or when delivery fails. */
  flush(): Promise<void>;
  /**
   * Stops accepting events, then tries to deliver what is buffered for at most `timeoutMs`.
   * Never rejects; what could not be delivered in time stays counted in `stats().buffered`.
   */
  close(timeoutMs?: number): Promise<void>;
}
