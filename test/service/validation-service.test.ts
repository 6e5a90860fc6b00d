/**
 * The validation service's hot path: answered synchronously from the cache, repeated answers
 * reused whole (token and JSON text) while nothing they depend on changed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ValidationEvent } from '../../lib/events/validation-event.js';
import type { RequestContext } from '../../lib/service/validation-service.js';
import { generateKeys } from '../../lib/keys/generate-key.js';
import type { License } from '../../lib/lifecycle/license.js';
import { CoalescedLoader } from '../../lib/service/coalesced-loader.js';
import { LicenseCache } from '../../lib/service/license-cache.js';
import { MongoLicenseStore } from '../../lib/store/mongo-license-store.js';
import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';

const context: RequestContext = { ip: '203.0.113.7', origin: null, referer: null, userAgent: 'test' };

/**
 * Waits until the invalidations published so far came back through Redis: every write publishes
 * one, this instance included, and one arriving late would empty the cache mid-test. Messages
 * from one connection arrive in order, so a marker published after them arrives after them.
 */
async function settleInvalidations(fixture: KeywardFixture): Promise<void> {
  fixture.keyward.cache.set('settle-marker', null);
  await fixture.redis.publish('keyward:license-invalidations', 'settle-marker');
  await vi.waitFor(() => expect(fixture.keyward.cache.peek('settle-marker')).toBeUndefined());
}

describe('ValidationService', () => {
  let fixture: KeywardFixture;
  const events: ValidationEvent[] = [];
  let key: string;
  let licenseId: string;

  beforeEach(async () => {
    events.length = 0;
    fixture = await startKeyward({ onValidation: (event) => events.push(event) });
    const issued = await fixture.keyward.licenses.issue({ planId: 'pro', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.code);
    key = issued.value.key;
    licenseId = issued.value.record.license.id;
    const activated = await fixture.keyward.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value: 'machine-1' });
    if (!activated.ok) throw new Error(activated.refusal.code);
    await settleInvalidations(fixture);
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('answers without a promise once the license is cached, and says when the store must be read', async () => {
    const { validation, cache } = fixture.keyward;
    cache.clear();
    const prepared = validation.prepare(key);
    expect(validation.validateCached(prepared, { key, fingerprint: 'machine-1' }, context)).toBeUndefined();
    expect(events).toHaveLength(0);
    const loaded = await validation.validate(prepared, { key, fingerprint: 'machine-1' }, context);
    expect(loaded.code).toBe('VALID');
    const cached = validation.validateCached(prepared, { key, fingerprint: 'machine-1' }, context);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached?.code).toBe('VALID');
    expect(events.map((event) => event.code)).toEqual(['VALID', 'VALID']);
  });

  it('answers a malformed key without the cache', () => {
    const { validation } = fixture.keyward;
    const prepared = validation.prepare('not a key');
    expect(validation.validateCached(prepared, { key: 'not a key' }, context)?.code).toBe('MALFORMED_KEY');
    expect(events.at(-1)).toMatchObject({ code: 'MALFORMED_KEY', keyDigest: null, licenseId: null });
  });

  it('hands out the same answer and JSON text again while the license and binding are unchanged, with one event each time', async () => {
    const { validation } = fixture.keyward;
    const prepared = validation.prepare(key);
    const first = await validation.validate(prepared, { key, fingerprint: 'machine-1' }, context);
    const second = validation.validateCached(prepared, { key, fingerprint: 'machine-1' }, context);
    expect(second).toBe(first);
    expect(validation.answerJson(first)).toBe(JSON.stringify(first));
    expect(validation.answerJson(second!)).toBe(validation.answerJson(first));
    expect(events.filter((event) => event.code === 'VALID')).toHaveLength(2);
    expect(new Set(events.map((event) => event.eid)).size).toBe(2);
  });

  it('gives a new answer when the binding differs or the license changed', async () => {
    const { validation, licenses } = fixture.keyward;
    const prepared = validation.prepare(key);
    const first = await validation.validate(prepared, { key, fingerprint: 'machine-1' }, context);
    const otherMachine = await validation.validate(prepared, { key, fingerprint: 'machine-2' }, context);
    expect(otherMachine.code).toBe('NOT_ACTIVATED');
    expect(otherMachine).not.toBe(first);

    const suspended = await licenses.apply(licenseId, { type: 'suspend', reason: 'manual', note: 'test' });
    expect(suspended.ok).toBe(true);
    await settleInvalidations(fixture);
    const after = await validation.validate(prepared, { key, fingerprint: 'machine-1' }, context);
    expect(after.code).toBe('SUSPENDED');
    expect(after.token).not.toBe(first.token);
    expect(validation.answerJson(after)).toBe(JSON.stringify(after));
  });

  describe('cache misses, coalesced (issue 15)', () => {
    it('answers concurrent misses each with its own license, and NOT_FOUND for unknown keys', async () => {
      const { validation, licenses, cache } = fixture.keyward;
      const many = await licenses.issueMany(30, { planId: 'open', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
      if (!many.ok) throw new Error(many.refusal.code);
      await settleInvalidations(fixture);
      cache.clear();
      const known = [...many.value.map((item) => ({ key: item.key, id: item.record.license.id })), { key, id: licenseId }];
      const unknown = generateKeys(5).map((k) => ({ key: k, id: undefined }));
      const asked = [...known, ...unknown, ...known.slice(0, 3)];
      const before = cache.stats();
      const answers = await Promise.all(asked.map(({ key: k }) => validation.validateUncached(validation.prepare(k), { key: k }, context)));
      expect(answers.map((a) => a.license?.id)).toEqual(asked.map((a) => a.id));
      expect(answers.map((a) => a.code)).toEqual(asked.map((a) => (a.id === undefined ? 'NOT_FOUND' : a.id === licenseId ? 'NOT_ACTIVATED' : 'VALID')));
      expect(cache.stats().misses - before.misses).toBe(asked.length);
      // Now cached, the unknown keys included: no store read.
      for (const { key: k, id } of asked) expect(validation.validateCached(validation.prepare(k), { key: k }, context)?.license?.id).toBe(id);
    });

    it('never caches a load that a suspension overtook: the read made before the write is read again', async () => {
      const { licenses } = fixture.keyward;
      const store = new MongoLicenseStore({ db: fixture.db });
      const digest = licenses.digestOf(key);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let reads = 0;
      const loader = new CoalescedLoader<License>({
        loadMany: async (digests) => {
          reads += 1;
          const found = await store.findLicensesByDigests(digests);
          if (reads === 1) await held; // the first read's answer arrives after the suspension
          return found;
        },
      });
      const cache = new LicenseCache({ load: (d) => loader.load(d) });
      const pending = cache.load(digest);
      await vi.waitFor(() => expect(reads).toBe(1));
      const suspended = await licenses.apply(licenseId, { type: 'suspend', reason: 'manual', note: 'test' });
      expect(suspended.ok).toBe(true);
      cache.invalidate(digest); // what the license service's onChange (and the bus) does
      release();
      expect((await pending)?.status).toBe('suspended');
      expect(reads).toBe(2);
      expect((await cache.get(digest))?.status).toBe('suspended');
    });

    it('gives the store error to every request waiting in a failed batch', async () => {
      const failure = new Error('store down');
      const loader = new CoalescedLoader<License>({ loadMany: () => Promise.reject(failure) });
      const cache = new LicenseCache({ load: (d) => loader.load(d) });
      const settled = await Promise.allSettled(['a', 'b', 'a'].map((d) => cache.load(d)));
      expect(settled.map((s) => s.status === 'rejected' && s.reason)).toEqual([failure, failure, failure]);
      expect(cache.peek('a')).toBeUndefined();
    });
  });
});
