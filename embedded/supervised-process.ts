import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

import { findExecutable } from './find-executable.js';

/** How a supervised process ended. */
export type ProcessEnd =
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'spawn-failed'; readonly error: Error };

/** Options for {@link spawnSupervised}. */
export interface SupervisedProcessOptions {
  /** Absolute path of the program to run (see `findExecutable`). Required. */
  readonly executable: string;
  /** Arguments passed to the program, without shell interpretation. Default: none. */
  readonly args?: readonly string[];
  /**
   * How `stop()` asks the process to end: `'SIGTERM'`, or `'close-stdin'` for programs that
   * exit when their standard input reaches end of file. Default: `'SIGTERM'`.
   */
  readonly stopBy?: 'SIGTERM' | 'close-stdin';
  /** How long `stop()` waits for a clean exit before sending SIGKILL. Default: 10 000 ms. */
  readonly stopGraceMs?: number;
  /** How many of the last output lines (stdout and stderr) to keep for error messages. Default: 40. */
  readonly keepOutputLines?: number;
  /** Called with every line the process writes to stdout or stderr. Default: none. */
  readonly onLine?: (line: string) => void;
}

/** A child process whose lifetime is bound to this one. */
export interface SupervisedProcess {
  /** Operating-system process id, when the spawn succeeded. */
  readonly pid: number | undefined;
  /** Settles once, when the process has ended and its output is drained. Never rejects. */
  readonly ended: Promise<ProcessEnd>;
  /** Whether the process has ended. */
  hasEnded(): boolean;
  /** The last lines the process wrote, for error messages. */
  recentOutput(): string;
  /** Asks the process to end (see `stopBy`), escalates to SIGKILL after `stopGraceMs`, and waits. */
  stop(): Promise<ProcessEnd>;
}

/**
 * Children still running. They get SIGTERM when this process exits normally without having
 * stopped them (an uncaught exception, `process.exit()` in a test runner).
 */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

/** `setpriv` from util-linux, looked up once; `undefined` off Linux or when it is missing. */
let setprivLookup: Promise<string | undefined> | undefined;

/**
 * Starts a program as a child process that cannot outlive this one.
 *
 * Three guards, from strongest to weakest:
 * - On Linux with util-linux's `setpriv`, the child runs with a parent-death signal
 *   (`PR_SET_PDEATHSIG` = SIGTERM), so the kernel stops it even when this process is SIGKILLed.
 *   The child then also gets its own process group, so a Ctrl-C in the terminal reaches only
 *   this process, which can stop its children in order (server first, data stores last).
 * - Without `setpriv` the child stays in our process group, so a Ctrl-C reaches it directly.
 * - Either way, a normal exit of this process sends SIGTERM to children still running.
 *
 * @param options - What to run and how to stop it; see {@link SupervisedProcessOptions}.
 */
export async function spawnSupervised(options: SupervisedProcessOptions): Promise<SupervisedProcess> {
  const args = options.args ?? [];
  const stopBy = options.stopBy ?? 'SIGTERM';
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const keepOutputLines = options.keepOutputLines ?? 40;

  setprivLookup ??= process.platform === 'linux' ? findExecutable('setpriv') : Promise.resolve(undefined);
  const setpriv = await setprivLookup;
  // setpriv execs the program, so the pid we get is the program's own pid.
  const [command, commandArgs] =
    setpriv === undefined
      ? [options.executable, args]
      : [setpriv, ['--pdeathsig', 'TERM', options.executable, ...args]];

  const child = spawn(command, commandArgs, {
    stdio: [stopBy === 'close-stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: setpriv !== undefined,
  });
  running.add(child);
  installExitHook();
  // Ending stdin of a process that already exited raises EPIPE here; its exit is reported anyway.
  child.stdin?.on('error', () => undefined);

  const output: string[] = [];
  const follow = (stream: Readable | null): Promise<void> => {
    if (stream === null) return Promise.resolve();
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      output.push(line);
      if (output.length > keepOutputLines) output.shift();
      options.onLine?.(line);
    });
    return new Promise((resolve) => lines.once('close', resolve));
  };
  const drained = Promise.all([follow(child.stdout), follow(child.stderr)]);

  let end: ProcessEnd | undefined;
  const ended = new Promise<ProcessEnd>((resolve) => {
    const settle = (result: ProcessEnd): void => {
      if (end !== undefined) return;
      end = result;
      running.delete(child);
      resolve(result);
    };
    child.once('error', (error) => settle({ kind: 'spawn-failed', error }));
    child.once('exit', (code, signal) => {
      running.delete(child);
      // Output written just before exit is still in the pipes; read it before reporting. A
      // grandchild that inherited the pipes could hold them open, hence the bound on the wait.
      const drainBound = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
      void Promise.race([drained, drainBound]).then(() => settle({ kind: 'exited', code, signal }));
    });
  });

  return {
    pid: child.pid,
    ended,
    hasEnded: () => end !== undefined,
    recentOutput: () => output.join('\n'),
    async stop() {
      if (end !== undefined) return end;
      if (stopBy === 'close-stdin') child.stdin?.end();
      else child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      try {
        return await ended;
      } finally {
        clearTimeout(escalate);
      }
    },
  };
}

/** Describes how a process ended, for error messages. */
export function describeProcessEnd(end: ProcessEnd): string {
  if (end.kind === 'spawn-failed') return `could not be started (${end.error.message})`;
  return end.signal === null ? `exited with code ${String(end.code)}` : `was killed by ${end.signal}`;
}
