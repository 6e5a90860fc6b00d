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

  describe('reloading a key in use before its entry runs out', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('reloads in the background and answers from the entry meanwhile, so readers never miss', async () => {
      let version = 1;
      let loads = 0;
      const cache = new LicenseCache({ load: async () => (loads++, license(version)), maxStaleMs: 1_000, refreshAheadMs: 800 });
      await cache.get('d');
      version = 2;
      expect(cache.peek('d')?.version).toBe(1);
      expect(loads).toBe(1);

      await sleep(300); // past the refresh point (200 ms), well within the bound (1,000 ms)
      expect(cache.peek('d')?.version).toBe(1); // answered at once; the reload starts
      expect(cache.peek('d')?.version).toBe(1); // one reload, however many readers
      await sleep(0);
      expect(loads).toBe(2);
      expect(cache.peek('d')?.version).toBe(2);
    });

    it('never serves an entry past maxStaleMs while its reload hangs: readers then wait for the reload', async () => {
      let release: (value: License) => void = () => undefined;
      let loads = 0;
      const cache = new LicenseCache({
        load: async () => {
          loads += 1;
          return loads === 1 ? license(1) : new Promise<License>((resolve) => (release = resolve));
        },
        maxStaleMs: 400,
        refreshAheadMs: 300,
      });
      await cache.get('d');
      await sleep(150);
      expect(cache.peek('d')?.version).toBe(1);
      expect(loads).toBe(2);

      await sleep(350); // the entry's 400 ms are over; its reload still hangs
      expect(cache.peek('d')).toBeUndefined();
      const waiting = cache.get('d');
      release(license(2));
      expect((await waiting)?.version).toBe(2);
      expect(loads).toBe(2);
    });

    it('keeps the entry until its end when the reload fails, then loads again', async () => {
      let loads = 0;
      const cache = new LicenseCache({
        load: async () => {
          loads += 1;
          if (loads === 2) throw new Error('store unavailable');
          return license(loads);
        },
        maxStaleMs: 1_000,
        refreshAheadMs: 800,
      });
      await cache.get('d');
      await sleep(300);
      expect(cache.peek('d')?.version).toBe(1);
      await sleep(0);
      expect(loads).toBe(2);
      expect(cache.peek('d')?.version).toBe(1); // not dropped early by the failure

      await sleep(800);
      expect(cache.peek('d')).toBeUndefined();
      expect((await cache.get('d'))?.version).toBe(3);
    });

    it('lets an invalidation win over a reload in flight', async () => {
      let version = 1;
      let release: () => void = () => undefined;
      let loads = 0;
      const cache = new LicenseCache({
        load: async () => {
          loads += 1;
          const seen = version;
          if (loads === 2) await new Promise<void>((resolve) => (release = resolve));
          return license(seen);
        },
        maxStaleMs: 1_000,
        refreshAheadMs: 800,
      });
      await cache.get('d');
      await sleep(300);
      cache.peek('d'); // starts the reload, which read version 1 and hangs
      version = 2;
      cache.invalidate('d');
      expect(cache.peek('d')).toBeUndefined();
      expect((await cache.get('d'))?.version).toBe(2);
      release(); // the stale reload lands late and must not replace the fresh entry
      await sleep(0);
      expect(cache.peek('d')?.version).toBe(2);
    });

    it('does not reload ahead when refreshAheadMs is 0', async () => {
      let loads = 0;
      const cache = new LicenseCache({ load: async () => (loads++, license(1)), maxStaleMs: 300, refreshAheadMs: 0 });
      await cache.get('d');
      await sleep(200);
      expect(cache.peek('d')?.version).toBe(1);
      await sleep(0);
      expect(loads).toBe(1);
    });
  });

  it('refuses bad bounds at construction', () => {
    expect(() => new LicenseCache({ load: async () => null, maxStaleMs: 0 })).toThrowError(/cache.maxStaleMs/);
    expect(() => new LicenseCache({ load: async () => null, maxEntries: -1 })).toThrowError(/cache.maxEntries/);
    expect(() => new LicenseCache({ load: async () => null, maxStaleMs: 1_000, refreshAheadMs: 1_000 })).toThrowError(/cache.refreshAheadMs/);
    expect(() => new LicenseCache({ load: async () => null, refreshAheadMs: -1 })).toThrowError(/cache.refreshAheadMs/);
  });
});
