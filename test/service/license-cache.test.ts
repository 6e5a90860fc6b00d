/** The cache in front of the store: bounded staleness, shared loads, invalidation mid-load. */
import { describe, expect, it } from 'vitest';
import type { License } from '../../lib/lifecycle/license.js';
import { LicenseCache } from '../../lib/service/license-cache.js';

const license = (version: number) => ({ id: 'lic_1', version }) as unknown as License;

describe('LicenseCache', () => {
  it('shares one load among concurrent misses for a key', async () => {
    let loads = 0;
    const cache = new LicenseCache({ load: async () => (loads++, license(1)) });
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get('d1')));
    expect(loads).toBe(1);
    expect(results.every((l) => l?.version === 1)).toBe(true);
  });

  it('peeks without loading: undefined until an entry is cached, then the license or null', async () => {
    let loads = 0;
    const cache = new LicenseCache({ load: async (digest) => (loads++, digest === 'known' ? license(3) : null) });
    expect(cache.peek('known')).toBeUndefined();
    expect(cache.peek('unknown')).toBeUndefined();
    expect(loads).toBe(0);
    await cache.get('known');
    await cache.get('unknown');
    expect(cache.peek('known')?.version).toBe(3);
    expect(cache.peek('unknown')).toBeNull();
    cache.invalidate('known');
    expect(cache.peek('known')).toBeUndefined();
  });

  it('caches unknown keys as null, so guesses do not reach the store each time', async () => {
    let loads = 0;
    const cache = new LicenseCache({ load: async () => (loads++, null) });
    expect(await cache.get('nope')).toBeNull();
    expect(await cache.get('nope')).toBeNull();
    expect(loads).toBe(1);
  });

  it('reloads after maxStaleMs, whatever happened to invalidations', async () => {
    let version = 1;
    const cache = new LicenseCache({ load: async () => license(version), maxStaleMs: 30 });
    expect((await cache.get('d'))?.version).toBe(1);
    version = 2;
    expect((await cache.get('d'))?.version).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await cache.get('d'))?.version).toBe(2);
  });

  it('returns fresh data when the entry is invalidated while it loads', async () => {
    let version = 1;
    let release: () => void = () => undefined;
    const cache = new LicenseCache({
      load: async () => {
        const seen = version;
        if (seen === 1) await new Promise<void>((resolve) => (release = resolve));
        return license(seen);
      },
    });
    const pending = cache.get('d');
    await Promise.resolve();
    version = 2;
    cache.invalidate('d');
    release();
    expect((await pending)?.version).toBe(2);
  });

  it('refuses bad bounds at construction', () => {
    expect(() => new LicenseCache({ load: async () => null, maxStaleMs: 0 })).toThrowError(/cache.maxStaleMs/);
    expect(() => new LicenseCache({ load: async () => null, maxEntries: -1 })).toThrowError(/cache.maxEntries/);
  });
});
