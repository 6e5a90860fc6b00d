/** What every CLI command gets: the wired services, where to write, and who is acting. */
import type { Keyward } from '../lib/service/create-keyward.js';
import type { AdminTokenStore } from '../lib/store/admin-token-store.js';
import type { MongoEmailOutbox } from '../lib/store/mongo-email-outbox.js';

/** Somewhere to write text (stdout, stderr, or a test's buffer). */
export interface CliOutput {
  write(text: string): unknown;
}

/** A progress display for long commands. */
export interface ProgressBar {
  /** Shows `done` of the total. */
  update(done: number): void;
  /** Removes or finishes the display. */
  stop(): void;
}

/** The context of one CLI command. */
export interface CliContext {
  readonly keyward: Keyward;
  readonly adminTokens: AdminTokenStore;
  /** The e-mail outbox (resend-key queues here; the worker's sweep sends it). */
  readonly emailOutbox: MongoEmailOutbox;
  /** Results: one JSON object, or CSV. */
  readonly out: CliOutput;
  /** Refusals and progress. */
  readonly err: CliOutput;
  /** Who acts, for the audit trail, e.g. `cli:alice`. */
  readonly actor: string;
  /** Clock. */
  readonly clock: () => Date;
  /** Starts a progress bar of `total` steps; absent when nobody watches (stderr is not a terminal). */
  readonly progress?: (total: number) => ProgressBar;
}
