/**
 * Process plumbing shared by the entry points (server, worker, CLI): whether a module is the
 * one Node was started with, and running a long-lived part until SIGINT or SIGTERM.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { messageOf } from './startup-error.js';

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the process's entry point. */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(realpathSync(entry)).href;
}

/** Options for {@link runUntilSignal}. */
export interface RunUntilSignalOptions {
  /** Prefix of messages on stderr, e.g. `keyward-server`. */
  readonly name: string;
  /** Longest wait for a clean stop before the process exits anyway, in ms. Default 10,000. */
  readonly stopTimeoutMs?: number;
  /**
   * Longest the process lingers after a failed start (closing what was opened), in ms; it then
   * exits with code 1 whatever still holds it open. Default 5,000.
   */
  readonly failedStartExitMs?: number;
}

/**
 * Starts a part, then stops it on the first SIGINT or SIGTERM (a second one exits at once).
 *
 * Every end is bounded and said: a failed start prints one line (`<name>: <message>`) on stderr
 * and the process exits with code 1 within `failedStartExitMs`; a stop that does not finish
 * within `stopTimeoutMs` prints what it gave up on and exits with code 1.
 */
export function runUntilSignal(options: RunUntilSignalOptions, start: () => Promise<{ stop(): Promise<void> }>): void {
  const say = (line: string): void => void process.stderr.write(`${options.name}: ${line}\n`);
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  // Through a promise, so a synchronous throw (bad configuration) is reported like a failed start.
  Promise.resolve().then(start).then(
    (running) => {
      let stopping = false;
      const shutdown = (signal: NodeJS.Signals): void => {
        if (stopping) {
          say(`${signal} again: exiting without waiting for the stop to finish`);
          process.exit(1);
        }
        stopping = true;
        // Something that never finishes stopping must not keep the process alive forever.
        setTimeout(() => {
          say(`gave up waiting for a clean stop after ${stopTimeoutMs} ms; exiting`);
          process.exit(1);
        }, stopTimeoutMs).unref();
        running.stop().then(
          // A stopped part holds nothing; a handle some library forgot must not hold the process.
          () => void setTimeout(() => process.exit(), 2_000).unref(),
          (error: unknown) => {
            say(`shutdown failed: ${messageOf(error)}`);
            process.exitCode = 1;
          },
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    (error: unknown) => {
      say(messageOf(error));
      process.exitCode = 1;
      setTimeout(() => process.exit(1), options.failedStartExitMs ?? 5_000).unref();
    },
  );
}
