/**
 * Console sessions in MongoDB (collection `console_sessions`): one document per sign-in, keyed by
 * the SHA-256 of the cookie's secret, so a copy of the database lets nobody in. A session names
 * the admin token it was opened with (never the token itself), carries its CSRF token, and ends
 * when it expires, when it is signed out (revoked), or when its admin token is revoked or expires
 * (checked on every request by console-auth.ts). Any server instance can serve any session.
 */
import { createHash } from 'node:crypto';

import type { Collection, Db } from 'mongodb';

import { toDatastoreError } from '../../lib/store/datastore-error.js';
import type { AdminScope } from '../../lib/store/admin-token-store.js';

/** A stored session. */
export interface ConsoleSession {
  /** SHA-256 (hex) of the cookie value. */
  readonly id: string;
  readonly tokenId: string;
  readonly tokenName: string;
  readonly scope: AdminScope;
  /** The synchronizer token every state-changing form of this session must carry. */
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

interface ConsoleSessionDocument extends Omit<ConsoleSession, 'id'> {
  _id: string;
}

/** The stored id of a cookie value. */
export function sessionIdOf(cookieValue: string): string {
  return createHash('sha256').update(cookieValue, 'utf8').digest('hex');
}

/** Console sessions on MongoDB (needs no index beyond `_id`). */
export class MongoConsoleSessionStore {
  readonly #sessions: Collection<ConsoleSessionDocument>;

  constructor(options: { readonly db: Db; readonly collectionPrefix?: string }) {
    this.#sessions = options.db.collection<ConsoleSessionDocument>(`${options.collectionPrefix ?? ''}console_sessions`);
  }

  async insert(session: ConsoleSession): Promise<void> {
    const { id, ...fields } = session;
    try {
      await this.#sessions.insertOne({ _id: id, ...fields });
    } catch (error) {
      throw toDatastoreError('insertConsoleSession', error);
    }
  }

  async get(id: string): Promise<ConsoleSession | null> {
    try {
      const found = await this.#sessions.findOne({ _id: id });
      if (!found) return null;
      const { _id, ...fields } = found;
      return { id: _id, ...fields };
    } catch (error) {
      throw toDatastoreError('getConsoleSession', error);
    }
  }

  /** Ends a session; false when there was none open. */
  async revoke(id: string, at: Date): Promise<boolean> {
    try {
      return (await this.#sessions.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } })).matchedCount === 1;
    } catch (error) {
      throw toDatastoreError('revokeConsoleSession', error);
    }
  }

  /** Ends every open session of an admin token (when the token is revoked through the API or CLI). */
  async revokeForToken(tokenId: string, at: Date): Promise<number> {
    try {
      return (await this.#sessions.updateMany({ tokenId, revokedAt: null }, { $set: { revokedAt: at } })).modifiedCount;
    } catch (error) {
      throw toDatastoreError('revokeConsoleSessions', error);
    }
  }

  /** Deletes sessions that expired before `now` (no TTL indexes on every MongoDB-wire server: swept on sign-in). */
  async deleteExpired(now: Date): Promise<number> {
    try {
      return (await this.#sessions.deleteMany({ expiresAt: { $lt: now } })).deletedCount;
    } catch (error) {
      throw toDatastoreError('deleteExpiredConsoleSessions', error);
    }
  }
}
