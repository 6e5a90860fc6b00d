/**
 * SNAPSHOT_READ: a read racing updates of the same document returns one version of it. Without
 * it, mongo-java-server can return fields from two versions (measured: about 1 read in 5,000
 * while a document is rewritten in a loop), which let a renew undo a concurrent revoke.
 */
import { describe, expect, it } from 'vitest';

import { SNAPSHOT_READ } from '../../lib/store/snapshot-read.js';
import { withTestDatabase } from '../setup/services.js';

/** 30 fields that one update always sets to the same value. */
const fields = (value: number) => Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, value]));

describe('SNAPSHOT_READ', () => {
  it('never returns a document mixing two versions while it is being rewritten', async () => {
    await withTestDatabase(async (db) => {
      const collection = db.collection<{ _id: string }>('snapshots');
      await collection.insertOne({ _id: 'doc', ...fields(0) });
      let writing = true;
      const writer = (async () => {
        for (let value = 1; value <= 1_500; value++) await collection.updateOne({ _id: 'doc' }, { $set: fields(value) });
        writing = false;
      })();
      let reads = 0;
      const mixed: Array<Set<unknown>> = [];
      const reader = async () => {
        while (writing) {
          const document = await collection.findOne({ _id: 'doc' }, SNAPSHOT_READ);
          reads++;
          const values = new Set(Object.entries(document ?? {}).filter(([name]) => name !== '_id').map(([, value]) => value));
          if (values.size !== 1) mixed.push(values);
        }
      };
      await Promise.all([writer, reader(), reader(), reader()]);
      expect(reads).toBeGreaterThan(100);
      expect(mixed).toEqual([]);
    });
  }, 60_000);
});
