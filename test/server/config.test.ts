/** The server's settings from the environment: the hot-path cache. */
import { describe, expect, it } from 'vitest';

import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import { parseServerConfig } from '../../server/config.js';

const env = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-server-config-tests-0123456789',
  KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
};

describe('server cache settings', () => {
  it('default to a 5 s bound and 200,000 entries, leaving the refresh-ahead time to the cache', () => {
    expect(parseServerConfig(env, process.cwd()).cache).toEqual({ maxStaleMs: 5_000, maxEntries: 200_000 });
  });

  it('take CACHE_REFRESH_AHEAD_MS, 0 included', () => {
    expect(parseServerConfig({ ...env, CACHE_MAX_STALE_MS: '2000', CACHE_REFRESH_AHEAD_MS: '500' }, process.cwd()).cache).toEqual({
      maxStaleMs: 2_000,
      maxEntries: 200_000,
      refreshAheadMs: 500,
    });
    expect(parseServerConfig({ ...env, CACHE_REFRESH_AHEAD_MS: '0' }, process.cwd()).cache.refreshAheadMs).toBe(0);
  });

  it.each(['-1', '1.5', 'soon'])('name CACHE_REFRESH_AHEAD_MS when it is %j', (value) => {
    expect(() => parseServerConfig({ ...env, CACHE_REFRESH_AHEAD_MS: value }, process.cwd())).toThrow(/CACHE_REFRESH_AHEAD_MS/);
  });
});
