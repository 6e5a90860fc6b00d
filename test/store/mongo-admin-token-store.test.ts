/** The admin token store against the real MongoDB-wire server. */
import { describe, expect, it } from 'vitest';
import type { AdminTokenRecord } from '../../lib/store/admin-token-store.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { withTestDatabase } from '../setup/services.js';

const record = (id: string, overrides: Partial<AdminTokenRecord> = {}): AdminTokenRecord => ({
  id,
  name: `token ${id}`,
  scope: 'write',
  secretHash: 'ab'.repeat(32),
  createdAt: new Date('2026-03-01T10:00:00.000Z'),
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  ...overrides,
});

describe('MongoAdminTokenStore', () => {
  it('stores a token in admin_tokens and reads it back as it was', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      const token = record('tok_01', { scope: 'read', expiresAt: new Date('2026-04-01T00:00:00.000Z') });
      await store.insert(token);
      expect(await store.findById('tok_01')).toEqual(token);
      expect(await db.collection('admin_tokens').findOne({ _id: 'tok_01' as never })).toEqual({
        _id: 'tok_01',
        name: 'token tok_01',
        scope: 'read',
        secretHash: 'ab'.repeat(32),
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
        revokedAt: null,
      });
      expect(await store.findById('tok_02')).toBeNull();
    });
  });

  it('refuses a second token with the same id', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      await store.insert(record('tok_01'));
      await expect(store.insert(record('tok_01'))).rejects.toMatchObject({ code: 'DUPLICATE_KEY' });
    });
  });

  it('lists tokens oldest first', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      await store.insert(record('tok_02'));
      await store.insert(record('tok_01'));
      expect((await store.list()).map((token) => token.id)).toEqual(['tok_01', 'tok_02']);
    });
  });

  it('revokes once, keeping the first revocation time', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db });
      await store.insert(record('tok_01'));
      const first = new Date('2026-03-02T00:00:00.000Z');
      expect(await store.revoke('tok_01', first)).toBe(true);
      expect(await store.revoke('tok_01', new Date('2026-03-03T00:00:00.000Z'))).toBe(false);
      expect(await store.revoke('tok_unknown', first)).toBe(false);
      expect((await store.findById('tok_01'))?.revokedAt).toEqual(first);
    });
  });

  it('records the last use', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoAdminTokenStore({ db, collectionPrefix: 'x_' });
      await store.insert(record('tok_01'));
      const at = new Date('2026-03-05T12:00:00.000Z');
      await store.touch('tok_01', at);
      expect((await store.findById('tok_01'))?.lastUsedAt).toEqual(at);
      expect(await db.collection('x_admin_tokens').countDocuments()).toBe(1);
    });
  });
});
