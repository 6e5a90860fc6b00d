/**
 * Reads that return one version of a document, never a mix of two.
 *
 * mongo-java-server (the MongoDB-wire server of tests and of the embedded default) updates a
 * stored document in place and serialises query results after leaving its collection lock, so
 * a read racing an update can return some fields from before it and some from after. Every
 * read-decide-write in Keyward (a lifecycle command guarded by `version`) would then decide on
 * a state that never existed: a renew read as `active` with the version a revoke just wrote
 * passes the guard and undoes the revoke. An exclusion projection makes that server copy the
 * document under its lock; on a real mongod it excludes a field no document has, at no cost.
 */
import type { FindOptions } from 'mongodb';

/** Options for `find` / `findOne` whose documents must be consistent snapshots. */
export const SNAPSHOT_READ = { projection: { __snapshot: 0 } } as const satisfies FindOptions;
