/**
 * The worker's webhook loop: relay events from their source documents into the outbox, fan
 * each event out into one delivery per endpoint that wants it, and deliver what is due.
 *
 * Deliveries run concurrently, at most `concurrencyPerEndpoint` per endpoint and `maxInFlight`
 * in all, and each endpoint's due deliveries are claimed separately: a slow or hanging
 * receiver fills only its own slots and never holds back the others. A finished delivery
 * schedules the next tick at once, so a fast receiver is fed without waiting for the poll.
 * Ordering is not promised (a retried event arrives after later ones).
 */
import type { Logger } from 'pino';

import type { MongoWebhookEndpointStore, WebhookEndpointDocument } from '../../lib/store/mongo-webhook-endpoint-store.js';
import type { ClaimedDelivery, DeliveryAttempt, MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import type { MongoWebhookRelay } from '../../lib/store/mongo-webhook-relay.js';
import { DEFAULT_WEBHOOK_RETRY, decideRetry, type WebhookRetryPolicy } from '../../lib/webhooks/delivery-backoff.js';
import { endpointWants, webhookPayload, type WebhookEvent } from '../../lib/webhooks/webhook-event.js';
import { webhookHeaders } from '../../lib/webhooks/webhook-signature.js';
import type { WebhookSend } from './webhook-sender.js';

/** Events fanned out per query. */
const FAN_OUT_PAGE = 500;
/** Due deliveries read ahead per endpoint. */
const CANDIDATE_BATCH = 100;
/** How often a busy endpoint's success is written. */
const SUCCESS_WRITE_INTERVAL_MS = 60_000;

/** Options for {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  readonly endpoints: MongoWebhookEndpointStore;
  readonly outbox: MongoWebhookOutbox;
  readonly relay: MongoWebhookRelay;
  /** Makes one HTTP attempt (createWebhookSender). Required. */
  readonly send: WebhookSend;
  readonly logger: Logger;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /**
   * The clock of the `webhook-timestamp` header, which receivers compare with their own clock
   * (replay protection). Default: `clock`. Tests that move `clock` days ahead keep this one real.
   */
  readonly timestampClock?: () => Date;
  /** Random draw in [0, 1) for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Retry policy. Default {@link DEFAULT_WEBHOOK_RETRY}. */
  readonly retry?: WebhookRetryPolicy;
  /** How long a claimed attempt is held before another worker may take it over, in ms; must exceed the send timeout. Default 60,000. */
  readonly leaseMs?: number;
  /** Deliveries in flight per endpoint. Default 4. */
  readonly concurrencyPerEndpoint?: number;
  /** Deliveries in flight in all. Default 64. */
  readonly maxInFlight?: number;
  /**
   * An endpoint whose delivery used up its attempts is disabled when it has had no success for
   * this long, in ms. Default 259,200,000 (3 days, about the retry span).
   */
  readonly disableAfterMs?: number;
  /** Called once when an endpoint is disabled for failing (to tell the operator). Default: nothing. */
  readonly onEndpointDisabled?: (endpoint: WebhookEndpointDocument) => Promise<void>;
  /** User-Agent header. Default `Keyward-Webhooks/1`. */
  readonly userAgent?: string;
}

/** What one tick did. */
export interface TickTally {
  readonly relayed: number;
  readonly fannedOut: number;
  readonly started: number;
}

/** Relays, fans out and delivers webhook events. */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #clock: () => Date;
  readonly #random: () => number;
  readonly #retry: WebhookRetryPolicy;
  readonly #leaseMs: number;
  readonly #perEndpoint: number;
  readonly #maxInFlight: number;
  readonly #disableAfterMs: number;
  readonly #inFlight = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  #total = 0;
  #ticking: Promise<TickTally> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  /** Enabled endpoints as of the last tick (settings and secrets refresh every tick). */
  #enabled: WebhookEndpointDocument[] = [];
  #feeding: Promise<number> | null = null;
  /** Due deliveries read ahead per endpoint, claimed one by one. */
  readonly #candidates = new Map<string, Array<{ readonly id: string; readonly event: WebhookEvent }>>();
  /** When this dispatcher last wrote an endpoint's success, and whether it wrote a failure since. */
  readonly #successWritten = new Map<string, number>();
  readonly #failureWritten = new Set<string>();
  #feedAgain = false;
  #stopped = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#retry = options.retry ?? DEFAULT_WEBHOOK_RETRY;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#perEndpoint = options.concurrencyPerEndpoint ?? 4;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#disableAfterMs = options.disableAfterMs ?? 259_200_000;
    for (const [name, value] of Object.entries({ leaseMs: this.#leaseMs, concurrencyPerEndpoint: this.#perEndpoint, maxInFlight: this.#maxInFlight })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`WebhookDispatcher: ${name} must be a positive integer`);
    }
  }

  /** Deliveries in flight now. */
  get inFlight(): number {
    return this.#total;
  }

  /** Deliveries to one endpoint in flight now. */
  inFlightTo(endpointId: string): number {
    return this.#inFlight.get(endpointId) ?? 0;
  }

  /** Ticks every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    const loop = (): void => {
      if (this.#stopped) return;
      this.tick()
        .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'webhook tick failed'))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  /** Stops ticking and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking?.catch(() => undefined);
    await this.#feeding?.catch(() => undefined);
    await this.idle();
  }

  /** Resolves when no delivery is in flight. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Ticks and waits until nothing is due or in flight (tests and benchmarks). */
  async drain(): Promise<void> {
    for (;;) {
      await this.#ticking;
      const tally = await this.tick();
      await this.idle();
      await this.#ticking;
      await this.#feeding;
      const quiet = tally.relayed === 0 && tally.fannedOut === 0 && tally.started === 0;
      if (quiet && this.#running.size === 0 && this.#ticking === null && this.#feeding === null) return;
    }
  }

  /** One pass: relay, fan out, start due deliveries (without waiting for them). A call during a pass runs another after it. */
  tick(): Promise<TickTally> {
    if (this.#ticking) {
      this.#again = true;
      return this.#ticking;
    }
    const run = this.#tickOnce().finally(() => {
      this.#ticking = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.tick().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'webhook tick failed'));
      }
    });
    this.#ticking = run;
    return run;
  }

  async #tickOnce(): Promise<TickTally> {
    const { outbox, relay, endpoints } = this.#options;
    const now = this.#clock();
    const relayed = await relay.relay(now);
    const enabled = await endpoints.list({ enabled: true });
    this.#enabled = enabled;
    // Read ahead again after a tick: retries may have become due, endpoints changed.
    this.#candidates.clear();
    let fannedOut = 0;
    for (;;) {
      const events = await outbox.pendingFanOut(FAN_OUT_PAGE);
      await outbox.fanOutMany(
        events.map((event) => ({ event, endpointIds: enabled.filter((endpoint) => endpointWants(endpoint.eventTypes, event.type)).map((endpoint) => endpoint._id) })),
        now,
      );
      fannedOut += events.length;
      if (events.length < FAN_OUT_PAGE) break;
    }
    const started = await this.#feed();
    return { relayed, fannedOut, started };
  }

  /**
   * Claims due deliveries into every free slot of the endpoints known from the last tick. Runs
   * after each finished delivery too, so it never runs twice at once (a call during a run runs
   * again after it).
   */
  #feed(): Promise<number> {
    if (this.#feeding) {
      this.#feedAgain = true;
      return this.#feeding;
    }
    const run = this.#feedOnce().finally(() => {
      this.#feeding = null;
      if (this.#feedAgain && !this.#stopped) {
        this.#feedAgain = false;
        this.#feed().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'webhook feed failed'));
      }
    });
    this.#feeding = run;
    return run;
  }

  async #feedOnce(): Promise<number> {
    let started = 0;
    for (const endpoint of this.#enabled) {
      let refills = 0;
      while ((this.#inFlight.get(endpoint._id) ?? 0) < this.#perEndpoint && this.#total < this.#maxInFlight && !this.#stopped) {
        let candidates = this.#candidates.get(endpoint._id) ?? [];
        if (candidates.length === 0) {
          // At most two refills per endpoint and feed: candidates another worker took are skipped, not chased.
          if (refills++ === 2) break;
          candidates = await this.#options.outbox.dueBatch(endpoint._id, this.#clock(), CANDIDATE_BATCH);
          this.#candidates.set(endpoint._id, candidates);
          if (candidates.length === 0) break;
        }
        const candidate = candidates.shift();
        if (!candidate) break;
        const claim = await this.#options.outbox.claim(candidate.id, candidate.event, this.#clock(), this.#leaseMs);
        if (!claim) continue;
        this.#launch(endpoint, claim);
        started++;
      }
    }
    return started;
  }

  #launch(endpoint: WebhookEndpointDocument, claim: ClaimedDelivery): void {
    this.#inFlight.set(endpoint._id, (this.#inFlight.get(endpoint._id) ?? 0) + 1);
    this.#total++;
    const running = this.#deliver(endpoint, claim)
      .catch((error: unknown) => this.#options.logger.warn({ err: error, endpointId: endpoint._id, eventId: claim.event.id }, 'webhook delivery could not be recorded'))
      .finally(() => {
        this.#inFlight.set(endpoint._id, (this.#inFlight.get(endpoint._id) ?? 1) - 1);
        this.#total--;
        this.#running.delete(running);
        // A slot is free: feed it now rather than at the next poll.
        if (!this.#stopped) this.#feed().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'webhook feed failed'));
      });
    this.#running.add(running);
  }

  async #deliver(endpoint: WebhookEndpointDocument, claim: ClaimedDelivery): Promise<void> {
    const { endpoints, outbox, logger } = this.#options;
    const at = this.#clock();
    const body = webhookPayload(claim.event);
    const headers = {
      'content-type': 'application/json',
      'user-agent': this.#options.userAgent ?? 'Keyward-Webhooks/1',
      ...webhookHeaders({ id: claim.event.id, timestampSeconds: Math.floor((this.#options.timestampClock ?? this.#clock)().getTime() / 1000), body }, endpoints.signingSecrets(endpoint, at)),
    };
    const result = await this.#options.send({ url: endpoint.url, headers, body });
    const attempt: DeliveryAttempt = { attempt: claim.delivery.attempts, at, statusCode: result.statusCode, latencyMs: result.latencyMs, error: result.error };
    // The endpoint id and event id identify the delivery in logs; the URL may carry a token and is left out.
    const log = { endpointId: endpoint._id, eventId: claim.event.id, attempt: attempt.attempt, statusCode: result.statusCode, latencyMs: result.latencyMs };
    if (result.ok) {
      if (!(await outbox.markSucceeded(claim, attempt))) logger.info(log, 'webhook delivered after its lease passed to another worker');
      // One success write a minute per busy endpoint, at once when it was failing.
      const written = this.#successWritten.get(endpoint._id);
      if (written === undefined || at.getTime() - written >= SUCCESS_WRITE_INTERVAL_MS || endpoint.failingSince !== null || this.#failureWritten.has(endpoint._id)) {
        await endpoints.recordSuccess(endpoint._id, at);
        this.#successWritten.set(endpoint._id, at.getTime());
        this.#failureWritten.delete(endpoint._id);
      }
      return;
    }
    await endpoints.recordFailure(endpoint._id, at);
    this.#failureWritten.add(endpoint._id);
    const decision = decideRetry(claim.delivery.attempts, this.#random(), this.#retry);
    if (decision.retry) {
      await outbox.markRetry(claim, attempt, new Date(at.getTime() + decision.delayMs));
      logger.debug({ ...log, error: result.error, retryInMs: decision.delayMs }, 'webhook attempt failed');
      return;
    }
    await outbox.markFailed(claim, attempt);
    logger.warn({ ...log, error: result.error }, 'webhook delivery failed for good');
    if (await endpoints.disableIfFailing(endpoint._id, new Date(at.getTime() - this.#disableAfterMs), at)) {
      logger.warn({ endpointId: endpoint._id }, 'webhook endpoint disabled: it kept failing');
      const disabled = await endpoints.get(endpoint._id);
      if (disabled) await this.#options.onEndpointDisabled?.(disabled);
    }
  }
}
