/**
 * Admin authentication against the real MongoDB-wire server: only the secret's hash is stored,
 * every bad token gets one answer, expiry is told only to the holder, and the cache of
 * verified tokens never turns a failure into a success.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AdminTokenStore } from '../../../lib/store/admin-token-store.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { AdminAuth, createAdminToken } from '../../../server/auth/admin-auth.js';
import { withTestDatabase } from '../../setup/services.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');

/** A clock the test moves. */
function testClock(start: Date = T0) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

/** The real store, counting its reads (to see the cache at work). */
function countingStore(db: Db): AdminTokenStore & { reads: number } {
  const store = new MongoAdminTokenStore({ db });
  const counted = {
    reads: 0,
    insert: (record: Parameters<AdminTokenStore['insert']>[0]) => store.insert(record),
    findById: (id: string) => {
      counted.reads++;
      return store.findById(id);
    },
    list: () => store.list(),
    revoke: (id: string, at: Date) => store.revoke(id, at),
    touch: (id: string, at: Date) => store.touch(id, at),
  };
  return counted;
}

const bearer = (token: string) => `Bearer ${token}`;

describe('createAdminToken', () => {
  it('answers kwa_<id>_<secret> once and stores only the SHA-256 of the secret', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const { token, record } = await createAdminToken(store, { name: 'ops', scope: 'write' }, T0);
      const match = /^kwa_(tok_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/.exec(token);
      expect(match?.[1]).toBe(record.id);
      const secret = match?.[2] ?? '';
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
      const stored = await db.collection('admin_tokens').findOne({ _id: record.id as never });
      expect(stored).toMatchObject({ name: 'ops', scope: 'write', createdAt: T0, expiresAt: null, revokedAt: null });
      expect(stored?.['secretHash']).toBe(createHash('sha256').update(secret).digest('hex'));
      expect(JSON.stringify(stored)).not.toContain(secret);
    });
  });

  it('makes a different secret every time', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const tokens = await Promise.all(Array.from({ length: 20 }, () => createAdminToken(store, { name: 'n', scope: 'read' }, T0)));
      expect(new Set(tokens.map(({ token }) => token.slice(-43))).size).toBe(20);
    });
  });
});

describe('AdminAuth.authenticate', () => {
  it('accepts a valid token, names its holder and records the use', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const { token, record } = await createAdminToken(store, { name: 'ops', scope: 'read' }, T0);
      const auth = new AdminAuth({ store, clock: () => T0 });
      expect(await auth.authenticate(bearer(token))).toEqual({ ok: true, principal: { tokenId: record.id, name: 'ops', scope: 'read' } });
      expect((await store.findById(record.id))?.lastUsedAt).toEqual(T0);
    });
  });

  it('answers UNAUTHORIZED to a missing, garbled, unknown, wrong or revoked token, and TOKEN_EXPIRED only to the holder of an expired one', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const clock = testClock();
      const valid = await createAdminToken(store, { name: 'valid', scope: 'write' }, T0);
      const revoked = await createAdminToken(store, { name: 'revoked', scope: 'write' }, T0);
      await store.revoke(revoked.record.id, T0);
      const expiring = await createAdminToken(store, { name: 'expiring', scope: 'write', expiresAt: new Date(T0.getTime() + 60_000) }, T0);
      const otherSecret = randomBytes(32).toString('base64url');
      const auth = new AdminAuth({ store, clock: clock.now });
      clock.advance(60_000);

      const answers = await Promise.all(
        [
          undefined,
          '',
          'Bearer',
          'Token abc',
          bearer('kwa_tok_x_y'),
          bearer(`kwa_tok_01jzzzzzzzzzzzzzzzzzzzzzzz_${otherSecret}`),
          bearer(`kwa_${valid.record.id}_${otherSecret}`),
          bearer(revoked.token),
          bearer(`kwa_${expiring.record.id}_${otherSecret}`),
          bearer(expiring.token),
        ].map((header) => auth.authenticate(header)),
      );
      expect(answers.map((answer) => (answer.ok ? 'ok' : answer.code))).toEqual([
        ...Array<string>(9).fill('UNAUTHORIZED'),
        'TOKEN_EXPIRED',
      ]);
    });
  });

  it('serves a verified token from memory for the cache period, then reads the store again', async () => {
    await withTestDatabase(async (db) => {
      const store = countingStore(db);
      const clock = testClock();
      const { token, record } = await createAdminToken(store, { name: 'ops', scope: 'write' }, T0);
      const auth = new AdminAuth({ store, clock: clock.now, cacheTtlMs: 30_000 });
      await auth.authenticate(bearer(token));
      await auth.authenticate(bearer(token));
      expect(store.reads).toBe(1);

      // Revoked by another process: honoured once the cached copy is older than the cache period.
      await store.revoke(record.id, clock.now());
      clock.advance(29_000);
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      clock.advance(1_001);
      expect(await auth.authenticate(bearer(token))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
      expect(store.reads).toBe(2);
    });
  });

  it('drops a token revoked in this process at once', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const { token, record } = await createAdminToken(store, { name: 'ops', scope: 'write' }, T0);
      const auth = new AdminAuth({ store, clock: () => T0 });
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      await store.revoke(record.id, T0);
      auth.forget(record.id);
      expect(await auth.authenticate(bearer(token))).toEqual({ ok: false, code: 'UNAUTHORIZED' });
    });
  });

  it('never caches a failure as a success, and checks the secret even when the token is cached', async () => {
    await withTestDatabase(async (db) => {
      const store = countingStore(db);
      const { token, record } = await createAdminToken(store, { name: 'ops', scope: 'write' }, T0);
      const wrong = bearer(`kwa_${record.id}_${randomBytes(32).toString('base64url')}`);
      const auth = new AdminAuth({ store, clock: () => T0 });
      expect((await auth.authenticate(wrong)).ok).toBe(false);
      expect((await auth.authenticate(wrong)).ok).toBe(false);
      // The record is read once per cache period, whatever the secret; the secret is checked every time.
      expect(store.reads).toBe(1);
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      expect((await auth.authenticate(wrong)).ok).toBe(false);
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      expect(store.reads).toBe(1);
    });
  });

  it('expires a cached token on time', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const clock = testClock();
      const { token } = await createAdminToken(store, { name: 'ops', scope: 'write', expiresAt: new Date(T0.getTime() + 10_000) }, T0);
      const auth = new AdminAuth({ store, clock: clock.now });
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      clock.advance(9_999);
      expect((await auth.authenticate(bearer(token))).ok).toBe(true);
      clock.advance(1);
      expect(await auth.authenticate(bearer(token))).toEqual({ ok: false, code: 'TOKEN_EXPIRED' });
    });
  });

  it('refuses bad options when built', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      expect(() => new AdminAuth({ store, cacheTtlMs: 0 })).toThrow(/adminAuth.cacheTtlMs/);
      expect(() => new AdminAuth({ store, cacheMax: 1.5 })).toThrow(/adminAuth.cacheMax/);
    });
  });
});

describe('AdminAuth: an unknown id and a wrong secret take one path', () => {
  it('reads the store exactly as often for unknown ids as for known ids with a wrong secret (property)', async () => {
    await withTestDatabase(async (db) => {
      const store = countingStore(db);
      const known = await Promise.all(Array.from({ length: 3 }, () => createAdminToken(store, { name: 'ops', scope: 'write' }, T0)));
      const unknownIds = Array.from({ length: 3 }, () => `tok_${randomBytes(13).toString('hex').slice(0, 26)}`);
      const wrongSecret = () => randomBytes(32).toString('base64url');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 12 }), async (attempts) => {
          // Two servers see the same ids in the same order: one the known ids, one unknown ones.
          const knownStore = countingStore(db);
          const unknownStore = countingStore(db);
          const onKnown = new AdminAuth({ store: knownStore, clock: () => T0 });
          const onUnknown = new AdminAuth({ store: unknownStore, clock: () => T0 });
          for (const [, index] of attempts) {
            const knownId = known[index]?.record.id ?? '';
            const unknownId = unknownIds[index] ?? '';
            const a = await onKnown.authenticate(bearer(`kwa_${knownId}_${wrongSecret()}`));
            const b = await onUnknown.authenticate(bearer(`kwa_${unknownId}_${wrongSecret()}`));
            expect(a).toEqual({ ok: false, code: 'UNAUTHORIZED' });
            expect(b).toEqual(a);
            expect(unknownStore.reads).toBe(knownStore.reads);
          }
          expect(knownStore.reads).toBe(new Set(attempts.map(([, index]) => index)).size);
        }),
        { numRuns: 25 },
      );
    });
  });
});
