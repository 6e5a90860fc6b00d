/**
 * The coalesced cache-miss path (issue 15): misses of one moment go to MongoDB as one
 * `$in` query, and each caller still gets exactly what a load of its own key would give.
 *
 * Invariants:
 * - coalesced results equal one-by-one results (property, against the real store);
 * - every caller gets its own license; an unknown key gets null (NOT_FOUND at the route);
 * - a key asked for twice before its batch leaves is loaded once;
 * - a failed batch rejects every caller in it with the store's error;
 * - batches are bounded by maxBatchSize.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../../lib/keys/generate-key.js';
import { CoalescedLoader } from '../../lib/service/coalesced-loader.js';
import type { License } from '../../lib/lifecycle/license.js';
import { MongoLicenseStore } from '../../lib/store/mongo-license-store.js';
import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';

describe('CoalescedLoader on the real license store', () => {
  let fixture: KeywardFixture;
  let store: MongoLicenseStore;
  const digests: string[] = [];

  beforeAll(async () => {
    fixture = await startKeyward();
    store = new MongoLicenseStore({ db: fixture.db });
    const issued = await fixture.keyward.licenses.issueMany(40, { planId: 'pro', periodEndsAt: new Date('2027-06-01T00:00:00Z') });
    if (!issued.ok) throw new Error(issued.refusal.code);
    digests.push(...issued.value.map((item) => item.record.license.keyDigest));
  });
  afterAll(async () => fixture.close());

  it('gives each caller what a load of its key alone gives: its license, or null for an unknown key', async () => {
    // Unknown keys: digests of well-formed keys that no license has, as a guessing sweep sends.
    const unknown = generateKeys(20).map((key) => fixture.keyward.licenses.digestOf(key));
    const digest = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...digests) }, { weight: 1, arbitrary: fc.constantFrom(...unknown) });
    await fc.assert(
      fc.asyncProperty(fc.array(digest, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 4 }), async (asked, maxBatchSize, maxInFlight) => {
        let batches = 0;
        const loader = new CoalescedLoader<License>({
          loadMany: (keys) => {
            batches += 1;
            expect(keys.length).toBeLessThanOrEqual(maxBatchSize);
            expect(new Set(keys).size).toBe(keys.length);
            return store.findLicensesByDigests(keys);
          },
          maxBatchSize,
          maxInFlight,
        });
        const coalesced = await Promise.all(asked.map((d) => loader.load(d)));
        const alone = await Promise.all(asked.map(async (d) => (await store.findByDigest(d))?.license ?? null));
        expect(coalesced).toEqual(alone);
        // At most one query per batch that fills or ends a round: a key repeated before its batch
        // leaves is not asked again (waiting for a query in flight only merges more).
        let expected = 0;
        let gathering = new Set<string>();
        for (const d of asked) {
          gathering.add(d);
          if (gathering.size === maxBatchSize) {
            expected += 1;
            gathering = new Set();
          }
        }
        expect(batches).toBeLessThanOrEqual(expected + (gathering.size > 0 ? 1 : 0));
      }),
      { numRuns: 30 },
    );
  });

  it('answers concurrent misses of one moment with one query', async () => {
    const calls: string[][] = [];
    const loader = new CoalescedLoader<License>({ loadMany: (keys) => (calls.push([...keys]), store.findLicensesByDigests(keys)) });
    const results = await Promise.all(digests.slice(0, 25).map((d) => loader.load(d)));
    expect(calls).toHaveLength(1);
    expect(results.map((l) => l?.keyDigest)).toEqual(digests.slice(0, 25));
    expect(loader.batches).toBe(1);
  });

  it('leaves the sealed key out of what the validate path reads', async () => {
    const found = await store.findLicensesByDigests([digests[0] as string]);
    const license = found.get(digests[0] as string) as unknown as Record<string, unknown>;
    expect(license['keyDigest']).toBe(digests[0]);
    for (const field of ['keyCiphertext', 'keyMask', 'lastAudit', '_id', 'stripeSubscriptionId']) expect(license).not.toHaveProperty(field);
    expect(license).toEqual((await store.findByDigest(digests[0] as string))?.license);
  });
});

describe('CoalescedLoader', () => {
  it('shares one load among callers of one key in one batch', async () => {
    const asked: string[][] = [];
    const loader = new CoalescedLoader<string>({ loadMany: async (keys) => (asked.push([...keys]), new Map(keys.map((k) => [k, `v:${k}`]))) });
    const results = await Promise.all(['a', 'b', 'a', 'a', 'c'].map((k) => loader.load(k)));
    expect(results).toEqual(['v:a', 'v:b', 'v:a', 'v:a', 'v:c']);
    expect(asked).toEqual([['a', 'b', 'c']]);
  });

  it('rejects every caller of a failed batch with the store error, and the next batch starts afresh', async () => {
    const failure = new Error('mongo down');
    let fail = true;
    const loader = new CoalescedLoader<string>({
      loadMany: async (keys) => {
        if (fail) throw failure;
        return new Map(keys.map((k) => [k, k]));
      },
    });
    const settled = await Promise.allSettled(['a', 'b', 'a'].map((k) => loader.load(k)));
    expect(settled.map((s) => (s.status === 'rejected' ? s.reason : s.value))).toEqual([failure, failure, failure]);
    fail = false;
    expect(await loader.load('a')).toBe('a');
  });

  it('rejects every caller when loadMany throws instead of rejecting', async () => {
    const loader = new CoalescedLoader<string>({
      loadMany: () => {
        throw new Error('thrown');
      },
    });
    const settled = await Promise.allSettled([loader.load('x'), loader.load('y')]);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'thrown')).toBe(true);
  });

  it('sends a full batch at once, without waiting for the round to end', async () => {
    const asked: string[][] = [];
    const loader = new CoalescedLoader<string>({ loadMany: async (keys) => (asked.push([...keys]), new Map()), maxBatchSize: 2 });
    const pending = [loader.load('a'), loader.load('b')];
    expect(asked).toEqual([['a', 'b']]);
    pending.push(loader.load('c'));
    expect(asked).toHaveLength(1);
    expect(await Promise.all(pending)).toEqual([null, null, null]);
    expect(asked).toEqual([['a', 'b'], ['c']]);
  });

  it('gathers the misses that arrive while its queries are out into the next batch', async () => {
    const asked: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const loader = new CoalescedLoader<string>({
      loadMany: async (keys) => {
        asked.push([...keys]);
        if (asked.length === 1) await held;
        return new Map(keys.map((k) => [k, k]));
      },
      maxInFlight: 1,
    });
    const first = loader.load('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toEqual([['a']]);
    const later = ['b', 'c', 'b'].map((k) => loader.load(k));
    await new Promise((resolve) => setImmediate(resolve));
    expect(asked).toHaveLength(1); // the one query allowed is still out
    release();
    expect(await Promise.all([first, ...later])).toEqual(['a', 'b', 'c', 'b']);
    expect(asked).toEqual([['a'], ['b', 'c']]);
  });

  it('refuses a batch size or an in-flight limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new CoalescedLoader<string>({ loadMany: async () => new Map(), maxBatchSize: bad })).toThrow(ConfigurationError);
      expect(() => new CoalescedLoader<string>({ loadMany: async () => new Map(), maxInFlight: bad })).toThrow(ConfigurationError);
    }
  });
});
