/**
 * Floating seats on the real MongoDB-wire server: concurrent check-outs give exactly the free
 * seats (the version-guarded update of every command), and heartbeats that stop free a seat.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';

const HEARTBEAT_SECONDS = 120;
const PLANS = {
  plans: [{ id: 'float', rank: 1, limits: { maxActivations: 5, maxDomains: null, validationsPerMonth: null, floating: { heartbeatSeconds: HEARTBEAT_SECONDS } } }],
};
const T0 = '2026-06-01T10:00:00.000Z';
const later = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const CONTEXT = { ip: '203.0.113.7', origin: null, referer: null, userAgent: null };

let fixture: KeywardFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function floatingLicense() {
  fixture = await startKeyward({ plans: PLANS });
  fixture.setNow(T0);
  const issued = await fixture.keyward.licenses.issue({ planId: 'float', periodEndsAt: new Date('2027-06-01T00:00:00.000Z') });
  if (!issued.ok) throw new Error(issued.refusal.code);
  return { keyward: fixture.keyward, key: issued.value.key, id: issued.value.record.license.id, fixture };
}

const checkOut = (keyward: KeywardFixture['keyward'], key: string, machine: string) =>
  keyward.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value: machine });

describe('floating seats under concurrency', () => {
  it('50 concurrent check-outs on 3 free seats give exactly 3, and 50 more after the leases lapse give exactly 5', async () => {
    const { keyward, key, id, fixture: f } = await floatingLicense();
    for (const machine of ['held-1', 'held-2']) expect((await checkOut(keyward, key, machine)).ok).toBe(true);

    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => checkOut(keyward, key, `machine-${i}`)));
    expect(first.filter((result) => result.ok)).toHaveLength(3);
    expect(first.filter((result) => !result.ok).map((result) => (result.ok ? '' : result.refusal.code))).toEqual(Array(47).fill('ACTIVATION_LIMIT_REACHED'));
    const stored = await keyward.licenses.get(id);
    expect(stored?.license.activations).toHaveLength(5);

    // Nobody sends a heartbeat: at the interval every seat is free again.
    f.setNow(later(HEARTBEAT_SECONDS));
    const second = await Promise.all(Array.from({ length: 50 }, (_, i) => checkOut(keyward, key, `other-${i}`)));
    expect(second.filter((result) => result.ok)).toHaveLength(5);
    const after = await keyward.licenses.get(id);
    expect(after?.license.activations.map((seat) => seat.value).every((value) => value.startsWith('other-'))).toBe(true);
  });

  it('keeps the seat of a machine that sends heartbeats and frees the one of a machine that stopped; validation follows', async () => {
    const { keyward, key, fixture: f } = await floatingLicense();
    for (const machine of ['m1', 'm2', 'm3', 'm4', 'm5']) expect((await checkOut(keyward, key, machine)).ok).toBe(true);
    const validate = (machine: string) => keyward.validation.validate(keyward.validation.prepare(key), { key, fingerprint: machine }, CONTEXT);

    f.setNow(later(HEARTBEAT_SECONDS - 10));
    for (const machine of ['m1', 'm2', 'm3', 'm4']) expect((await keyward.licenses.applyByKey(key, { type: 'heartbeat', fingerprint: machine })).ok).toBe(true);
    f.setNow(later(HEARTBEAT_SECONDS));
    keyward.cache.clear();

    expect(await validate('m1')).toMatchObject({ code: 'VALID', leaseExpiresAt: new Date(later(2 * HEARTBEAT_SECONDS - 10)) });
    expect(await validate('m5')).toMatchObject({ code: 'NOT_ACTIVATED' });
    expect(await keyward.licenses.applyByKey(key, { type: 'heartbeat', fingerprint: 'm5' })).toMatchObject({ ok: false, refusal: { code: 'NOT_ACTIVATED' } });
    expect((await checkOut(keyward, key, 'm6')).ok).toBe(true);
    expect(await checkOut(keyward, key, 'm5')).toMatchObject({ ok: false, refusal: { code: 'ACTIVATION_LIMIT_REACHED' } });
  });

  it('signs a token that expires with the lease, not with the token lifetime', async () => {
    const { keyward, key } = await floatingLicense();
    await checkOut(keyward, key, 'm1');
    const answer = await keyward.validation.validate(keyward.validation.prepare(key), { key, fingerprint: 'm1' }, CONTEXT);
    const claims = JSON.parse(Buffer.from(String(answer.token).split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat: number; exp: number };

    expect(claims.exp - claims.iat).toBe(HEARTBEAT_SECONDS);
  });
});
