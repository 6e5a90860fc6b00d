/** The worker's /metrics endpoint as a module, on the configured port. */
import { describe, expect, it } from 'vitest';

import { findFreePort } from '../../../embedded/find-free-port.js';
import { createMetricsModule, createWorkerRegistry } from '../../../worker/metrics/metrics-module.js';
import { startTestWorker } from '../../support/worker-fixture.js';

describe('metrics module', () => {
  it('serves the registry with the process metrics on WORKER_METRICS_PORT until the worker stops', async () => {
    const port = await findFreePort();
    const worker = await startTestWorker({ metrics: { port, host: '127.0.0.1' } }, [createMetricsModule({ registry: createWorkerRegistry() })]);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^process_cpu_user_seconds_total /m);
    await worker.stop();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
