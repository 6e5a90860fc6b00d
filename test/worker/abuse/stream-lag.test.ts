/**
 * The lag metric: the age of the oldest unprocessed entry per partition, on the worker's
 * /metrics endpoint, reflects a backlog and falls to zero once it is processed.
 */
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';

import { streamKeyFor } from '../../../lib/events/stream-partition.js';
import { encodeValidationEvent } from '../../../lib/events/validation-event.js';
import { createAbuseStreamModule } from '../../../worker/abuse/abuse-stream-module.js';
import { startMetricsServer } from '../../../worker/metrics/metrics-server.js';
import { startTestWorker } from '../../support/worker-fixture.js';
import { countedEvents, CountingProcessor, eventually } from './counting-processor.js';
import { testEvent } from './test-events.js';

/** `metric{partition="n"} value` lines of a Prometheus text exposition, as a map by partition. */
function byPartition(exposition: string, metric: string): Map<number, number> {
  const values = new Map<number, number>();
  for (const match of exposition.matchAll(new RegExp(`^${metric}\\{partition="(\\d+)"\\} (\\S+)$`, 'gm'))) {
    values.set(Number(match[1]), Number(match[2]));
  }
  return values;
}

describe('abuse stream lag metric', () => {
  it('shows the age of the oldest unprocessed entry per partition, and zero once processed', async () => {
    const registry = new Registry();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const module = createAbuseStreamModule({
      createProcessor: (context) => new CountingProcessor(context.db, { beforeBatch: () => gate }),
      registry,
      blockMs: 100,
      leaseMs: 900,
    });
    const worker = await startTestWorker({}, [module]);
    const metrics = await startMetricsServer({ registry, port: 0 });
    onTestFinished(() => metrics.close());
    const scrape = async () => (await fetch(`${metrics.url}/metrics`)).text();

    // Five entries on partition 1 stamped two minutes ago (explicit ids: `<ms>-<seq>`).
    const redis = new Redis(worker.config.redisUrl);
    onTestFinished(() => redis.quit().then(() => undefined));
    const [seconds] = await redis.time();
    const twoMinutesAgo = Number(seconds) * 1000 - 120_000;
    const stream = streamKeyFor(1, worker.config.events.streamPrefix);
    for (let i = 0; i < 5; i += 1) await redis.xadd(stream, `${twoMinutesAgo}-${i}`, ...encodeValidationEvent(testEvent(i)));

    const during = await scrape();
    const lag = byPartition(during, 'keyward_abuse_stream_lag_seconds');
    expect(lag.get(1)).toBeGreaterThanOrEqual(120);
    expect([lag.get(0), lag.get(2), lag.get(3)]).toEqual([0, 0, 0]);
    expect(byPartition(during, 'keyward_abuse_stream_backlog_entries').get(1)).toBe(5);
    expect(during).toMatch(/^keyward_abuse_stream_owned_partitions 4$/m);

    release();
    await eventually('the backlog is counted', async () => (await countedEvents(worker.context.db).countDocuments()) === 5);
    await eventually('the lag falls to zero', async () => byPartition(await scrape(), 'keyward_abuse_stream_lag_seconds').get(1) === 0);
    const after = await scrape();
    expect(byPartition(after, 'keyward_abuse_stream_backlog_entries').get(1)).toBe(0);
    expect(byPartition(after, 'keyward_abuse_stream_processed_total').get(1)).toBe(5);
  });

  it('serves only GET /metrics', async () => {
    const metrics = await startMetricsServer({ registry: new Registry(), port: 0 });
    onTestFinished(() => metrics.close());
    expect((await fetch(`${metrics.url}/other`)).status).toBe(404);
    expect((await fetch(`${metrics.url}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${metrics.url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
  });
});
