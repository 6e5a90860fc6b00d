/** What every CLI command gets: the admin API client, where to write, and a clock. */
import type { AdminApiClient } from './admin-api-client.js';

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
  /** The server's admin API, called with the configured token (the server audits as that token). */
  readonly api: AdminApiClient;
  /** Results: one JSON object, or CSV. */
  readonly out: CliOutput;
  /** Refusals and progress. */
  readonly err: CliOutput;
  /** Clock. */
  readonly clock: () => Date;
  /** Starts a progress bar of `total` steps; absent when nobody watches (stderr is not a terminal). */
  readonly progress?: (total: number) => ProgressBar;
  /** Waits between polls (report creation). Default a timer; tests may pass their own. */
  readonly pause?: (ms: number) => Promise<void>;
}
