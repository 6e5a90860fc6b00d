/**
 * The license service against the real MongoDB-wire server: atomic, version-guarded writes
 * keep every lifecycle rule under concurrency.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';
import { mongoUrl } from '../setup/services.js';

let fixture: KeywardFixture;
beforeEach(async () => {
  fixture = await startKeyward();
});
afterEach(async () => {
  await fixture.close();
});

async function issue(planId: string, extra: Record<string, unknown> = {}) {
  const result = await fixture.keyward.licenses.issue({ planId, periodEndsAt: new Date(Date.now() + 30 * 86_400_000), ...extra });
  if (!result.ok) throw new Error(result.refusal.message);
  return result.value;
}

describe('issuing', () => {
  it('stores the key only as a digest and a ciphertext, and reveals it to its owner', async () => {
    const { record, key } = await issue('pro');
    const raw = await fixture.db.collection('licenses').findOne({ _id: record.license.id as never });
    expect(JSON.stringify(raw)).not.toContain(key);
    expect(raw).toMatchObject({ keyDigest: fixture.keyward.licenses.digestOf(key), keyMask: expect.stringMatching(/^TO-\*{4}-\*{4}-\*{4}-.{4}$/) });
    const stored = await fixture.keyward.licenses.get(record.license.id);
    expect(stored && fixture.keyward.licenses.revealKey(stored)).toBe(key);
  });

  it('issues many licenses at once with distinct keys and reports progress', async () => {
    const progress: number[] = [];
    const result = await fixture.keyward.licenses.issueMany(2_500, { planId: 'basic' }, (n) => progress.push(n));
    expect(result.ok && result.value.length).toBe(2_500);
    expect(progress).toEqual([1_000, 2_000, 2_500]);
    expect(await fixture.db.collection('licenses').countDocuments()).toBe(2_500);
    const keys = new Set(result.ok ? result.value.map((issued) => issued.key) : []);
    expect(keys.size).toBe(2_500);
  });

  it('refuses an unknown plan or key type without writing', async () => {
    expect(await fixture.keyward.licenses.issue({ planId: 'nope' })).toMatchObject({ ok: false, refusal: { code: 'UNKNOWN_PLAN' } });
    expect(await fixture.keyward.licenses.issue({ planId: 'pro', keyType: 'nope' })).toMatchObject({ ok: false, refusal: { code: 'UNKNOWN_KEY_TYPE' } });
    expect(await fixture.db.collection('licenses').countDocuments()).toBe(0);
  });

  it('issues with the seats bought (a per-seat price), and refuses seats a plan cannot have, writing nothing', async () => {
    const { record } = await issue('pro', { seats: 7 });
    expect(record.license.limits).toMatchObject({ maxActivations: 7 });
    expect((await fixture.keyward.licenses.get(record.license.id))?.license.limits.maxActivations).toBe(7);
    for (const [planId, seats] of [['web', 5], ['pro', 0], ['pro', 2.5]] as const) {
      expect(await fixture.keyward.licenses.issue({ planId, seats })).toMatchObject({ ok: false, refusal: { code: 'INVALID_COMMAND', details: { seats } } });
    }
    expect(await fixture.db.collection('licenses').countDocuments()).toBe(1);
  });

  it('refuses a second license for the same Stripe subscription', async () => {
    await issue('pro', { stripeSubscriptionId: 'sub_123' });
    await expect(issue('pro', { stripeSubscriptionId: 'sub_123' })).rejects.toMatchObject({ name: 'DuplicateKeyError', code: 'DUPLICATE_KEY' });
    expect(await fixture.db.collection('licenses').countDocuments()).toBe(1);
  });
});

describe('concurrency (atomic single-document updates guarded by version)', () => {
  it('gives exactly 3 seats to 50 parallel activations of a 3-seat license', async () => {
    const { key, record } = await issue('pro');
    // Separate clients, so the requests really race on the server.
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fixture.keyward.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value: `machine-${i}` }),
      ),
    );
    const activated = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.refusal.code));
    expect(activated).toHaveLength(3);
    expect(new Set(refused)).toEqual(new Set(['ACTIVATION_LIMIT_REACHED']));
    const stored = await fixture.keyward.licenses.get(record.license.id);
    expect(stored?.license.activations).toHaveLength(3);
    expect(stored?.license.version).toBe(4);
    const trail = await fixture.keyward.licenses.auditTrail(record.license.id, { limit: 100 });
    expect(trail.map((entry) => entry.command)).toEqual(['issue', 'activate', 'activate', 'activate']);
  });

  it('gives exactly 3 seats when the activations come through separate MongoDB connections', async () => {
    const { key, record } = await issue('pro');
    const { createKeyward } = await import('../../lib/service/create-keyward.js');
    const { TEST_PLANS, TEST_SECRETS } = await import('../support/keyward-fixture.js');
    const clients = await Promise.all(Array.from({ length: 5 }, () => new MongoClient(mongoUrl()).connect()));
    try {
      const services = await Promise.all(
        clients.map((client) => createKeyward({ db: client.db(fixture.db.databaseName), plans: TEST_PLANS, secrets: TEST_SECRETS })),
      );
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          services[i % 5]!.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value: `m-${i}` }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(3);
      expect((await fixture.keyward.licenses.get(record.license.id))?.license.activations).toHaveLength(3);
      await Promise.all(services.map((service) => service.close()));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('never leaves a revoked key valid when a revoke races renewals', async () => {
    for (let round = 0; round < 10; round++) {
      const { key, record } = await issue('open');
      const later = (days: number) => new Date(Date.now() + days * 86_400_000);
      const results = await Promise.all([
        fixture.keyward.licenses.apply(record.license.id, { type: 'renew', periodEndsAt: later(60) }),
        fixture.keyward.licenses.apply(record.license.id, { type: 'revoke', reason: 'refund' }),
        fixture.keyward.licenses.apply(record.license.id, { type: 'renew', periodEndsAt: later(90) }),
      ]);
      expect(results[1]?.ok).toBe(true);
      const stored = await fixture.keyward.licenses.get(record.license.id);
      expect(stored?.license.status).toBe('revoked');
      const prepared = fixture.keyward.validation.prepare(key);
      const answer = await fixture.keyward.validation.validate(prepared, { key }, { ip: '127.0.0.1', origin: null, referer: null, userAgent: null });
      expect(answer.code).toBe('REVOKED');
    }
  });
});

describe('lifecycle through the service', () => {
  it('records who did what in the audit trail, in order', async () => {
    const { record } = await issue('pro');
    const id = record.license.id;
    await fixture.keyward.licenses.apply(id, { type: 'suspend', reason: 'abuse_hold', cause: { actor: 'reviewer:ana', reason: 'shared key' } });
    await fixture.keyward.licenses.apply(id, { type: 'reinstate', cause: { actor: 'reviewer:ana', reason: 'false alarm' } });
    const trail = await fixture.keyward.licenses.auditTrail(id, { limit: 10 });
    expect(trail.map(({ command, from, to, version }) => ({ command, from, to, version }))).toEqual([
      { command: 'issue', from: null, to: 'active', version: 1 },
      { command: 'suspend', from: 'active', to: 'suspended', version: 2 },
      { command: 'reinstate', from: 'suspended', to: 'active', version: 3 },
    ]);
    expect(trail[1]?.cause).toEqual({ actor: 'reviewer:ana', reason: 'shared key' });
    expect(await fixture.keyward.licenses.auditTrail(id, { limit: 10, afterVersion: 2 })).toHaveLength(1);
  });

  it('refuses commands with the lifecycle code and writes nothing', async () => {
    const { record } = await issue('pro');
    await fixture.keyward.licenses.apply(record.license.id, { type: 'revoke', reason: 'manual' });
    const result = await fixture.keyward.licenses.apply(record.license.id, { type: 'renew', periodEndsAt: new Date(Date.now() + 1e10) });
    expect(result).toMatchObject({ ok: false, refusal: { code: 'LICENSE_REVOKED' } });
    expect((await fixture.keyward.licenses.get(record.license.id))?.license.version).toBe(2);
  });

  it('answers NOT_FOUND and MALFORMED_KEY for keys without a license', async () => {
    expect(await fixture.keyward.licenses.apply('lic_missing', { type: 'cancel' })).toMatchObject({ ok: false, refusal: { code: 'NOT_FOUND' } });
    expect(await fixture.keyward.licenses.applyByKey('garbage', { type: 'cancel' })).toMatchObject({ ok: false, refusal: { code: 'MALFORMED_KEY' } });
  });

  it('lists licenses by filter with cursor pagination', async () => {
    await fixture.keyward.licenses.issueMany(7, { planId: 'basic' });
    await fixture.keyward.licenses.issueMany(3, { planId: 'pro' });
    const first = await fixture.keyward.licenses.list({ planId: 'basic', limit: 4 });
    const second = await fixture.keyward.licenses.list({ planId: 'basic', limit: 4, after: first.at(-1)!.license.id });
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(3);
    expect(new Set([...first, ...second].map((r) => r.license.id)).size).toBe(7);
  });
});
