/**
 * The server's Prometheus metrics (prom-client), served by `GET /metrics`. Each call builds its
 * own registry rather than using prom-client's global one, so that tests (and several apps in
 * one process) do not collide over metric names.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { VALIDATION_CODES, type ValidationCode } from '../../lib/validation/validation-code.js';
import type { EventSink } from '../events/event-sink.js';

/** Which limit turned a request away. */
export type RateLimitScope = 'ip' | 'key';

/** Options for {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * The event sink whose counters are exported, read at scrape time:
   * `keyward_events_appended_total`, `keyward_events_dropped_total`, `keyward_event_buffer_size`.
   * Default: none (those metrics are left out).
   */
  readonly sink?: Pick<EventSink, 'stats'>;
  /**
   * Reads the number of entries in the license cache, at scrape time: `keyward_cache_entries`.
   * Default: none (the metric is left out).
   */
  readonly cacheEntries?: () => number;
  /** Whether to export prom-client's default process metrics (CPU, memory, event loop lag, GC). Default: true. */
  readonly processMetrics?: boolean;
  /** Upper bounds of the request-duration histogram buckets, in seconds. Default: 0.5 ms to 5 s. */
  readonly durationBuckets?: readonly number[];
}

/** The server's metrics, to be updated by the routes and middleware. */
export interface ServerMetrics {
  /** The registry holding every metric below. */
  readonly registry: Registry;
  /** `keyward_validations_total{code}`: validation answers given, by code. */
  readonly validations: Counter<'code'>;
  /** `keyward_http_request_duration_seconds{method,route,status}`: time to answer, by route template. */
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** `keyward_rate_limited_total{scope}`: requests turned away with 429, by the limit that did it. */
  readonly rateLimited: Counter<'scope'>;
  /**
   * `keyward_rate_limit_sync_failures_total`: syncs of the rate-limit counts with Redis that
   * failed; meanwhile each process limits on its own counts (open across instances).
   */
  readonly rateLimitSyncFailures: Counter;
  /** `Content-Type` of {@link ServerMetrics.metricsText}'s output. */
  readonly contentType: string;
  /** Counts one validation answer. */
  countValidation(code: ValidationCode): void;
  /** Counts one request turned away by a rate limit. */
  countRateLimited(scope: RateLimitScope): void;
  /** The Prometheus text exposition of every metric, for the `/metrics` route. */
  metricsText(): Promise<string>;
}

const DEFAULT_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RATE_LIMIT_SCOPES: readonly RateLimitScope[] = ['ip', 'key'];

/**
 * Builds the server's metrics in a registry of their own.
 *
 * @param options - Sources read at scrape time and what to include; see {@link ServerMetricsOptions}.
 */
export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];

  const validations = new Counter({
    name: 'keyward_validations_total',
    help: 'Validation answers given, by code.',
    labelNames: ['code'] as const,
    registers,
  });
  // Every series exists from the start, so rate() sees the first increment of a rare code.
  for (const code of VALIDATION_CODES) validations.inc({ code }, 0);

  const httpRequestDuration = new Histogram({
    name: 'keyward_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...(options.durationBuckets ?? DEFAULT_DURATION_BUCKETS)],
    registers,
  });

  const rateLimited = new Counter({
    name: 'keyward_rate_limited_total',
    help: 'Requests turned away by a rate limit, by scope (ip or key).',
    labelNames: ['scope'] as const,
    registers,
  });
  for (const scope of RATE_LIMIT_SCOPES) rateLimited.inc({ scope }, 0);

  const rateLimitSyncFailures = new Counter({
    name: 'keyward_rate_limit_sync_failures_total',
    help: 'Rate-limit syncs with Redis that failed; meanwhile each process limits on its own counts.',
    registers,
  });

  const { sink, cacheEntries } = options;
  if (sink !== undefined) registerSinkMetrics(registers, sink);
  if (cacheEntries !== undefined) {
    new Gauge({
      name: 'keyward_cache_entries',
      help: 'Entries in the in-process license cache.',
      registers,
      collect() {
        this.set(cacheEntries());
      },
    });
  }

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    validations,
    httpRequestDuration,
    rateLimited,
    rateLimitSyncFailures,
    contentType: registry.contentType,
    countValidation: (code) => validations.inc({ code }),
    countRateLimited: (scope) => rateLimited.inc({ scope }),
    metricsText: () => registry.metrics(),
  };
}

function registerSinkMetrics(registers: Registry[], sink: Pick<EventSink, 'stats'>): void {
  new Counter({
    name: 'keyward_events_appended_total',
    help: 'Validation events acknowledged by the event store.',
    registers,
    collect: counterFollowing(() => sink.stats().appended),
  });
  new Counter({
    name: 'keyward_events_dropped_total',
    help: 'Validation events given up (buffer full, sink closed, or refused by the store).',
    registers,
    collect: counterFollowing(() => sink.stats().dropped),
  });
  new Gauge({
    name: 'keyward_event_buffer_size',
    help: 'Validation events waiting in memory for delivery.',
    registers,
    collect() {
      this.set(sink.stats().buffered);
    },
  });
}

/**
 * A `collect` callback that keeps a counter equal to a total kept elsewhere. prom-client counters
 * only go up by increments, so it adds what the total grew by since the last scrape.
 */
function counterFollowing(readTotal: () => number): (this: Counter) => void {
  let reported = 0;
  return function collect(this: Counter) {
    const total = readTotal();
    if (total > reported) this.inc(total - reported);
    reported = Math.max(reported, total);
  };
}
