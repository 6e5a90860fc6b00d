/**
 * The validation service's hot path: answered synchronously from the cache, repeated answers
 * reused whole (token and JSON text) while nothing they depend on changed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ValidationEvent } from '../../lib/events/validation-event.js';
import type { RequestContext } from '../../lib/service/validation-service.js';
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
});
