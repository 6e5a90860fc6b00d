/**
 * One running instance per data directory. `npm start` keeps Redis's append-only file and the
 * MongoDB-wire server's H2 file in KEYWARD_DATA_DIR; a second instance on the same directory
 * would corrupt the first's data (Redis does not lock its files) or die on a Java stack trace
 * (H2 does). The lock is a file created exclusively, holding the owner's pid, taken before any
 * service starts and removed on stop; a lock whose process is gone is stale and taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { StartupError } from '../runtime/startup-error.js';

/** Name of the lock file inside the data directory. */
export const DATA_DIR_LOCK_FILE = 'keyward.lock';

/** What the lock file records about its owner. */
interface LockOwner {
  readonly pid: number;
  readonly startedAt: string;
}

/** A held lock on a data directory. */
export interface DataDirLock {
  /** The lock file. */
  readonly file: string;
  /** Removes the lock file if this process still owns it. Idempotent. */
  release(): void;
}

/**
 * Takes the data directory for this process.
 *
 * @throws StartupError (variable `KEYWARD_DATA_DIR`) when another live process holds it; the
 *   message names that process and the running instance is left untouched.
 */
export function lockDataDir(dataDir: string, now: Date = new Date()): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, DATA_DIR_LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, startedAt: now.toISOString() };
  // Two attempts: the second after removing a stale lock left by a process that died.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readOwner(file);
    if (holder !== undefined && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new StartupError(
        'KEYWARD_DATA_DIR',
        `the data directory ${dataDir} is in use by process ${holder.pid} (a Keyward started at ${holder.startedAt}); ` +
          `stop that one, or set KEYWARD_DATA_DIR to another directory (if process ${holder.pid} is not Keyward, delete ${file})`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new StartupError('KEYWARD_DATA_DIR', `the data directory ${dataDir} could not be locked (${file} keeps reappearing); is another Keyward starting there?`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0
      ? { pid: parsed.pid, startedAt: typeof parsed.startedAt === 'string' ? parsed.startedAt : 'an unknown time' }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
