import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import type { EventSinkStats } from '../../../server/events/event-sink.js';
import { RedisStreamEventSink } from '../../../server/events/redis-stream-event-sink.js';
import { createServerMetrics } from '../../../server/metrics/server-metrics.js';
import { redisUrl, uniqueName } from '../../setup/services.js';

/** A stand-in for the sink's counters: metrics only read `stats()`. */
function statsSource(initial: EventSinkStats): { stats: () => EventSinkStats; set: (next: EventSinkStats) => void } {
  let current = initial;
  return { stats: () => current, set: (next) => (current = next) };
}

/** The value of one sample line (`name{labels} value`) in the exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('server metrics', () => {
  it('exposes validation, rate-limit and request-duration metrics', async () => {
    const metrics = createServerMetrics({ processMetrics: false });

    metrics.countValidation('VALID');
    metrics.countValidation('VALID');
    metrics.countValidation('NOT_FOUND');
    metrics.countRateLimited('ip');
    metrics.httpRequestDuration.observe({ method: 'POST', route: '/v1/licenses/validate', status: '200' }, 0.003);
    const text = await metrics.metricsText();

    expect(text).toContain('# TYPE keyward_validations_total counter');
    expect(sample(text, 'keyward_validations_total{code="VALID"}')).toBe(2);
    expect(sample(text, 'keyward_validations_total{code="NOT_FOUND"}')).toBe(1);
    // Every code is there from the start, at 0.
    expect(sample(text, 'keyward_validations_total{code="QUOTA_EXCEEDED"}')).toBe(0);
    expect(sample(text, 'keyward_rate_limited_total{scope="ip"}')).toBe(1);
    expect(sample(text, 'keyward_rate_limited_total{scope="key"}')).toBe(0);
    expect(sample(text, 'keyward_http_request_duration_seconds_count{method="POST",route="/v1/licenses/validate",status="200"}')).toBe(1);
    expect(sample(text, 'keyward_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/licenses/validate",status="200"}')).toBe(1);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('reads the event sink and cache size at scrape time', async () => {
    const sink = statsSource({ buffered: 12, appended: 100, dropped: 3, failedFlushes: 1 });
    let cacheEntries = 7;
    const metrics = createServerMetrics({ sink, cacheEntries: () => cacheEntries, processMetrics: false });

    const first = await metrics.metricsText();
    sink.set({ buffered: 0, appended: 250, dropped: 5, failedFlushes: 1 });
    cacheEntries = 9;
    const second = await metrics.metricsText();

    expect(first).toContain('# TYPE keyward_events_appended_total counter');
    expect([sample(first, 'keyward_events_appended_total'), sample(second, 'keyward_events_appended_total')]).toEqual([100, 250]);
    expect([sample(first, 'keyward_events_dropped_total'), sample(second, 'keyward_events_dropped_total')]).toEqual([3, 5]);
    expect([sample(first, 'keyward_event_buffer_size'), sample(second, 'keyward_event_buffer_size')]).toEqual([12, 0]);
    expect([sample(first, 'keyward_cache_entries'), sample(second, 'keyward_cache_entries')]).toEqual([7, 9]);
  });

  it('leaves out sink and cache metrics without their sources, and includes process metrics by default', async () => {
    const text = await createServerMetrics().metricsText();

    expect(text).not.toContain('keyward_events_appended_total');
    expect(text).not.toContain('keyward_cache_entries');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps each instance in its own registry, so several can live in one process', async () => {
    const one = createServerMetrics();
    const two = createServerMetrics();

    one.countValidation('EXPIRED');

    expect(sample(await one.metricsText(), 'keyward_validations_total{code="EXPIRED"}')).toBe(1);
    expect(sample(await two.metricsText(), 'keyward_validations_total{code="EXPIRED"}')).toBe(0);
  });

  it('exports the counters of a real sink after delivery to Redis', async () => {
    const redis = new Redis(redisUrl(), { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
    const streamPrefix = uniqueName('events');
    const sink = new RedisStreamEventSink({ redis, partitions: 2, streamPrefix, maxBuffered: 3 });
    onTestFinished(async () => {
      await sink.close(100);
      await redis.del(...allStreamKeys(2, streamPrefix));
      await redis.quit();
    });
    const metrics = createServerMetrics({ sink, processMetrics: false });

    for (let i = 0; i < 5; i += 1) {
      sink.append({
        at: 1_772_366_400_000 + i,
        licenseId: null,
        keyDigest: null,
        ip: '203.0.113.7',
        origin: null,
        referer: null,
        domain: null,
        fingerprint: null,
        product: null,
        userAgent: null,
        code: 'MALFORMED_KEY',
      });
    }
    await sink.flush();
    const text = await metrics.metricsText();

    expect(sample(text, 'keyward_events_appended_total')).toBe(3);
    expect(sample(text, 'keyward_events_dropped_total')).toBe(2);
    expect(sample(text, 'keyward_event_buffer_size')).toBe(0);
  });
});
