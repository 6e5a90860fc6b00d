/**
 * One instance per data directory. The directory lock names the live holder; beneath it, the
 * MongoDB-wire launcher itself turns H2's "file is locked" into one line instead of a Java stack
 * trace, and the server already running on the file keeps serving.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { DATA_DIR_LOCK_FILE, lockDataDir } from '../../embedded/data-dir-lock.js';
import { startMongoJavaServer } from '../../embedded/mongo-java-server.js';
import { StartupError } from '../../runtime/startup-error.js';

describe('lockDataDir', () => {
  it('lets one holder in, names it to the next, and frees the directory on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-lock-'));
    const lock = lockDataDir(dir, new Date('2026-03-04T05:06:07.000Z'));
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toEqual({ pid: process.pid, startedAt: '2026-03-04T05:06:07.000Z' });
    lock.release();
    expect(() => readFileSync(join(dir, DATA_DIR_LOCK_FILE))).toThrow(/ENOENT/);
  });
});

describe('mongo-java-server on an H2 file another process holds', () => {
  it('fails in one line naming KEYWARD_DATA_DIR, and the first server keeps answering', async () => {
    const h2File = join(mkdtempSync(join(tmpdir(), 'keyward-h2-')), 'mongo-java-server.h2');
    const first = await startMongoJavaServer({ h2File, onNotice: () => undefined });
    onTestFinished(() => first.stop());

    const second = await startMongoJavaServer({ h2File, onNotice: () => undefined }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(second).toBeInstanceOf(StartupError);
    expect((second as StartupError).context.variable).toBe('KEYWARD_DATA_DIR');
    expect((second as Error).message).toBe(
      `the MongoDB-wire data file ${h2File} is in use by another process (another Keyward on this data directory?); stop it, or set KEYWARD_DATA_DIR to another directory`,
    );

    const client = await new MongoClient(first.url).connect();
    onTestFinished(() => client.close());
    await client.db('still').collection('here').insertOne({ answered: true });
    expect(await client.db('still').collection('here').countDocuments()).toBe(1);
  });
});
