/** The worker's configuration: the metrics endpoint and the abuse stream settings. */
import { describe, expect, it } from 'vitest';

import { parseWorkerConfig } from '../../worker/config.js';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: '3f9a1c7e5b2d8046af13c9e7b5d20864',
  KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef',
};

describe('parseWorkerConfig', () => {
  it('defaults the metrics endpoint to 127.0.0.1:9464 and the abuse consumers to their documented settings', () => {
    const config = parseWorkerConfig(base);
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.abuseStream).toEqual({ group: 'keyward-abuse', batchSize: 500, blockMs: 1_000, claimIdleMs: 30_000, leaseMs: 15_000 });
  });

  it('reads the variables, 0 turning the metrics endpoint off', () => {
    const config = parseWorkerConfig({
      ...base,
      WORKER_METRICS_PORT: '0',
      ABUSE_CONSUMER_GROUP: 'abuse-2',
      ABUSE_BATCH_SIZE: '1000',
      ABUSE_BLOCK_MS: '250',
      ABUSE_CLAIM_IDLE_MS: '60000',
      ABUSE_LEASE_MS: '5000',
    });
    expect(config.metrics?.port).toBe(0);
    expect(config.abuseStream).toEqual({ group: 'abuse-2', batchSize: 1_000, blockMs: 250, claimIdleMs: 60_000, leaseMs: 5_000 });
  });

  it.each([
    ['WORKER_METRICS_PORT', '70000'],
    ['ABUSE_BATCH_SIZE', '0'],
    ['ABUSE_BATCH_SIZE', '10000'],
    ['ABUSE_LEASE_MS', '100'],
    ['ABUSE_CONSUMER_GROUP', 'a group'],
  ])('names %s when it is %s', (name, value) => {
    expect(() => parseWorkerConfig({ ...base, [name]: value })).toThrow(name);
  });
});
