/** The webhook settings of the worker and the server: safe defaults, and a bad value names its variable. */
import { describe, expect, it } from 'vitest';

import { parseServerConfig } from '../../server/config.js';
import { parseWorkerConfig } from '../../worker/config.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../../worker/webhooks/webhook-config.js';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: '3f9a1c7e5b2d8046af13c9e7b5d20864',
  KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef',
};

describe('webhook configuration', () => {
  it('defaults to public HTTPS destinations, 21 attempts, 15 s per attempt and no alert address', () => {
    expect(parseWorkerConfig(base).webhooks).toEqual(DEFAULT_WEBHOOK_CONFIG);
    expect(DEFAULT_WEBHOOK_CONFIG).toMatchObject({ policy: { allowLoopback: false, allowPrivate: false }, timeoutMs: 15_000, alertEmail: null });
  });

  it('reads the variables', () => {
    const config = parseWorkerConfig({
      ...base,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_TIMEOUT_SECONDS: '5',
      WEBHOOK_MAX_ATTEMPTS: '10',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '8',
      WEBHOOK_DISABLE_AFTER_HOURS: '24',
      WEBHOOK_ALERT_EMAIL: 'ops@example.com',
    }).webhooks;
    expect(config).toMatchObject({
      policy: { allowLoopback: true, allowPrivate: true },
      timeoutMs: 5_000,
      retry: { maxAttempts: 10 },
      concurrencyPerEndpoint: 8,
      disableAfterMs: 86_400_000,
      alertEmail: 'ops@example.com',
    });
  });

  it.each([
    ['WEBHOOK_ALLOW_LOOPBACK', 'maybe'],
    ['WEBHOOK_TIMEOUT_SECONDS', '0'],
    ['WEBHOOK_MAX_ATTEMPTS', '1000'],
    ['WEBHOOK_ALERT_EMAIL', 'not an address'],
  ])('names %s when it is %s', (name, value) => {
    expect(() => parseWorkerConfig({ ...base, [name]: value })).toThrow(name);
  });

  it('gives the server the same address policy', () => {
    const server = {
      ...base,
      KEYWARD_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEIAnAN6n9jDbZ0ds1L5bWiqnW4O6mrHJYyq2cq0LCOIFw\\n-----END PRIVATE KEY-----',
    };
    expect(parseServerConfig(server, process.cwd()).webhookPolicy).toEqual({ allowLoopback: false, allowPrivate: false });
    expect(parseServerConfig({ ...server, WEBHOOK_ALLOW_LOOPBACK: 'yes' }, process.cwd()).webhookPolicy).toEqual({ allowLoopback: true, allowPrivate: false });
  });
});
