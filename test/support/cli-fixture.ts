/**
 * A CLI context on a Keyward of the real MongoDB and Redis (fresh database), writing into
 * buffers, with a progress bar that records what it was shown. For running CLI command
 * functions without spawning a process.
 */
import type { CliContext, ProgressBar } from '../../cli/cli-context.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { startKeyward, type KeywardFixture } from './keyward-fixture.js';

/** A running CLI fixture. */
export interface CliFixture {
  readonly ctx: CliContext;
  readonly fixture: KeywardFixture;
  /** Everything written to stdout / stderr since the last reset. */
  out(): string;
  err(): string;
  /** stdout parsed as the one JSON object it should hold. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
  json(): any;
  /** stderr's error object. */
  error(): { code: string; message: string };
  /** Progress bars started: their totals, updates and whether they were stopped. */
  readonly progress: Array<{ total: number; updates: number[]; stopped: boolean }>;
  reset(): void;
  close(): Promise<void>;
}

/** Starts a CLI fixture acting as `cli:test`. */
export async function startCli(): Promise<CliFixture> {
  const fixture = await startKeyward();
  let out = '';
  let err = '';
  const progress: CliFixture['progress'] = [];
  const ctx: CliContext = {
    keyward: fixture.keyward,
    adminTokens: new MongoAdminTokenStore({ db: fixture.db }),
    emailOutbox: new MongoEmailOutbox({ db: fixture.db }),
    out: { write: (text: string) => (out += text) },
    err: { write: (text: string) => (err += text) },
    actor: 'cli:test',
    clock: () => new Date(),
    progress: (total: number): ProgressBar => {
      const bar = { total, updates: [] as number[], stopped: false };
      progress.push(bar);
      return { update: (done) => bar.updates.push(done), stop: () => void (bar.stopped = true) };
    },
  };
  return {
    ctx,
    fixture,
    out: () => out,
    err: () => err,
    json: () => JSON.parse(out) as unknown,
    error: () => (JSON.parse(err) as { error: { code: string; message: string } }).error,
    progress,
    reset() {
      out = '';
      err = '';
    },
    close: () => fixture.close(),
  };
}
