/** The port admin tokens are kept through. The MongoDB implementation is beside it. */

/** What an admin token may do: `read` for GET routes, `write` for everything (write includes read). */
export type AdminScope = 'read' | 'write';

/** A stored admin token. Only the hash of its secret is kept; the token itself is shown once. */
export interface AdminTokenRecord {
  /** `tok_…` */
  readonly id: string;
  /** Who or what the token is for, e.g. `billing-ops`. */
  readonly name: string;
  readonly scope: AdminScope;
  /** SHA-256 of the secret part of the token, hex. */
  readonly secretHash: string;
  readonly createdAt: Date;
  /** After this instant the token is refused; `null` never expires. */
  readonly expiresAt: Date | null;
  /** Set once the token is revoked; a revoked token is refused for good. */
  readonly revokedAt: Date | null;
  /** Last successful authentication, as recorded (at most every cache period per process). */
  readonly lastUsedAt: Date | null;
}

/** Storage of admin tokens. */
export interface AdminTokenStore {
  /** Stores a new token. Throws DuplicateKeyError when the id is taken. */
  insert(record: AdminTokenRecord): Promise<void>;
  findById(id: string): Promise<AdminTokenRecord | null>;
  /** All tokens, oldest first (there are few). */
  list(): Promise<AdminTokenRecord[]>;
  /** Marks the token revoked at `at`; false when there is no such token or it was revoked already. */
  revoke(id: string, at: Date): Promise<boolean>;
  /** Records a successful use. */
  touch(id: string, at: Date): Promise<void>;
}
