/**
 * Start-up failures that name what the operator should change. A raw `listen EADDRINUSE` or
 * `connect ECONNREFUSED` says what broke; these say which variable to set and to what end, in
 * one line, so the entry points can print them as they are and exit non-zero.
 */
import { KeywardError } from '../lib/errors/keyward-error.js';

/** Details of a {@link StartupError}. */
export interface StartupErrorContext {
  /** The environment variable to change, e.g. `PORT`, `REDIS_URL`; `null` when none applies. */
  readonly variable: string | null;
}

/** A process could not start; the message is one line that says what to change. */
export class StartupError extends KeywardError<StartupErrorContext> {
  override readonly name = 'StartupError' as const;

  constructor(variable: string | null, message: string, cause?: unknown) {
    super('STARTUP_FAILED', message, { context: { variable }, cause });
  }
}

/** Where a listener tried to listen, and the variables that choose it. */
export interface ListenTarget {
  readonly host: string;
  readonly port: number;
  /** Variable that sets the port, e.g. `PORT`, `WORKER_METRICS_PORT`. */
  readonly portVariable: string;
  /** Variable that sets the interface, e.g. `HOST`. */
  readonly hostVariable: string;
  /** What listens there, e.g. `the HTTP server`. */
  readonly what: string;
  /** How to turn the listener off, when it can be (`WORKER_METRICS_PORT=0 turns it off`). */
  readonly offHint?: string;
}

/** Turns a `listen` failure into a {@link StartupError} naming the variable to change. */
export function describeListenFailure(error: unknown, target: ListenTarget): StartupError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = `${target.host}:${target.port}`;
  const off = target.offHint === undefined ? '' : ` (${target.offHint})`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        target.portVariable,
        `${target.what} cannot listen on ${where}: the port is in use by another process; set ${target.portVariable} to a free port${off}, or stop the other process`,
        error,
      );
    case 'EACCES':
      return new StartupError(
        target.portVariable,
        `${target.what} may not listen on ${where} (permission denied); set ${target.portVariable} to a port above 1023${off}`,
        error,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(
        target.hostVariable,
        `${target.what} cannot listen on ${where}: this machine has no such address; set ${target.hostVariable} to one of its interfaces (e.g. 127.0.0.1 or 0.0.0.0)`,
        error,
      );
    default:
      return new StartupError(target.portVariable, `${target.what} cannot listen on ${where}: ${messageOf(error)}; check ${target.hostVariable} and ${target.portVariable}`, error);
  }
}

/** Turns a failed first connection to a data store into a {@link StartupError} naming its URL variable. */
export function describeConnectFailure(error: unknown, store: { readonly name: 'Redis' | 'MongoDB'; readonly variable: string; readonly url: string }): StartupError {
  return new StartupError(
    store.variable,
    `${store.name} at ${redactUrl(store.url)} cannot be reached (${messageOf(error)}); check ${store.variable}, or start ${store.name} there`,
    error,
  );
}

/** A URL without its password, for messages and logs. Unparseable input becomes `<unparseable URL>`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/**
 * One line: the message of an error (or of each error of an AggregateError), without stack.
 * A message of several lines (a list of bad variables, a child's last output) is joined with
 * `; ` and cut after {@link MESSAGE_LINES} lines.
 */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(messageOf).join('; ');
  }
  const text = error instanceof Error ? error.message || error.name : String(error);
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const kept = lines.slice(0, MESSAGE_LINES);
  const joined = kept.reduce((line, next) => (line === '' ? next : line.endsWith(':') ? `${line} ${next}` : `${line}; ${next}`), '');
  return lines.length > kept.length ? `${joined} … (${lines.length - kept.length} more lines)` : joined;
}

/** Lines of a multi-line message kept by {@link messageOf}. */
export const MESSAGE_LINES = 8;
