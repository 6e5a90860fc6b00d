/**
 * Runs the CLI in process (runCli) against a server, capturing its output: the CLI as staff use
 * it, with KEYWARD_URL and KEYWARD_TOKEN and nothing else in its environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { onTestFinished } from 'vitest';

import { runCli, type CliIo } from '../../cli/main.js';

/** One run's outcome. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout as JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
  json(): any;
  /** stderr's `{ error }`. */
  error(): { code: string; message: string };
}

/** A CLI with a fixed environment and a scratch working directory (removed after the test). */
export interface CliRunner {
  readonly cwd: string;
  run(...args: string[]): Promise<CliRun>;
}

/** A runner whose runs see exactly `env`. */
export function cliRunner(env: Record<string, string>): CliRunner {
  const cwd = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
  return {
    cwd,
    async run(...args) {
      let out = '';
      let err = '';
      const stderr = new Writable({
        write(chunk: Buffer, _encoding, done) {
          err += chunk.toString();
          done();
        },
      });
      const io: CliIo = { stdout: { write: (text: string) => (out += text) }, stderr, env, cwd };
      const code = await runCli(args, io);
      return {
        code,
        out,
        err,
        json: () => JSON.parse(out) as unknown,
        error: () => (JSON.parse(err.trim().split('\n').at(-1) ?? '') as { error: { code: string; message: string } }).error,
      };
    },
  };
}
