/**
 * Process plumbing shared by the entry points (server, worker, CLI): whether a module is the
 * one Node was started with, and running a long-lived part until SIGINT or SIGTERM.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

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
}

/**
 * Starts a part, then stops it on the first SIGINT or SIGTERM. A start failure or a failed stop
 * is reported on stderr and sets exit code 1.
 */
export function runUntilSignal(options: RunUntilSignalOptions, start: () => Promise<{ stop(): Promise<void> }>): void {
  const report = (what: string, error: unknown): void => {
    process.stderr.write(`${options.name}: ${what}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  };
  // Through a promise, so a synchronous throw (bad configuration) is reported like a failed start.
  Promise.resolve().then(start).then(
    (running) => {
      const shutdown = (): void => {
        // Something that never finishes stopping must not keep the process alive forever.
        setTimeout(() => process.exit(1), options.stopTimeoutMs ?? 10_000).unref();
        running.stop().catch((error: unknown) => report('shutdown failed: ', error));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => report('', error),
  );
}
