/**
 * Runs one of Keyward's entry points (`scripts/start.ts`, `server/main.ts`, …) as its own
 * process through tsx, the way an operator does, and collects what it prints. The process is
 * killed when the test ends, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { onTestFinished } from 'vitest';

import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';

/** The project root, so entry points find config/plans.json whatever the test's cwd. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Test timeout for tests that spawn entry points: each process compiles its module graph with
 * tsx before it does anything, which takes many seconds on a busy 2-core machine. A bound on
 * the test, not an assertion about speed.
 */
export const SPAWN_TIMEOUT_MS = 120_000;

/** tsx's loader by absolute URL, so it is found from any working directory. */
const TSX_LOADER = pathToFileURL(`${PROJECT_ROOT}node_modules/tsx/dist/loader.mjs`).href;

/** How an entry point ended. */
export interface EntryPointEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running entry point. */
export interface RunningEntryPoint {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr, interleaved as read). */
  output(): string;
  /** Resolves once the output contains `text`; rejects if the process ends first. */
  waitFor(text: string | RegExp): Promise<void>;
  /** Settles when the process has ended. */
  readonly ended: Promise<EntryPointEnd>;
}

/** The secrets every entry point needs: fresh, strong enough for the environment's rules. */
export function testSecretsEnvironment(): Record<string, string> {
  return {
    KEYWARD_DIGEST_SECRET: randomBytes(32).toString('hex'),
    KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
  };
}

/**
 * Starts `script` (relative to the project root) with `env` on top of a minimal environment
 * (PATH and HOME only, so the developer's own variables do not leak in).
 */
export function runEntryPoint(script: string, env: Record<string, string>, options: { cwd?: string; args?: readonly string[] } = {}): RunningEntryPoint {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, `${PROJECT_ROOT}${script}`, ...(options.args ?? [])], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let both = '';
  const watchers = new Set<() => void>();
  const notify = (): void => watchers.forEach((watch) => watch());
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    both += chunk.toString();
    notify();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    both += chunk.toString();
    notify();
  });
  const ended = new Promise<EntryPointEnd>((resolve) => {
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
      notify();
    });
  });
  let done = false;
  void ended.then(() => (done = true));
  onTestFinished(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await ended;
    }
  });
  return {
    child,
    output: () => both,
    ended,
    waitFor(text) {
      const found = (): boolean => (typeof text === 'string' ? both.includes(text) : text.test(both));
      return new Promise((resolve, reject) => {
        const watch = (): void => {
          if (found()) {
            watchers.delete(watch);
            resolve();
          } else if (done) {
            watchers.delete(watch);
            reject(new Error(`the process ended before printing ${String(text)}:\n${both}`));
          }
        };
        watchers.add(watch);
        watch();
      });
    },
  };
}

/** The lines of `text` that are not pino JSON lines: what a person is told directly. */
export function plainLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}
