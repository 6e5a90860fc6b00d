/**
 * The CLI's output contract, in one place: a result is one JSON object on stdout (exit 0); a
 * refusal or missing record is `{ error: { code, message } }` on stderr (exit 1); a usage or
 * configuration error exits 2.
 */
import type { ApiAnswer } from './admin-api-client.js';
import type { CliOutput } from './cli-context.js';

/** Exit codes. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Refused, not found, or failed. */
  refused: 1,
  /** Bad arguments or configuration. */
  usage: 2,
} as const;

/** One of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Writes a result and answers exit 0. */
export function succeed(out: CliOutput, value: unknown): ExitCode {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
  return EXIT.ok;
}

/** Writes an error object and answers its exit code (1 unless told otherwise). */
export function fail(err: CliOutput, error: { readonly code: string; readonly message: string }, exit: ExitCode = EXIT.refused): ExitCode {
  err.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
  return exit;
}

/** Prints an API answer: its body on stdout (exit 0), or its error on stderr (exit 1). */
export function report(ctx: { readonly out: CliOutput; readonly err: CliOutput }, answer: ApiAnswer): ExitCode {
  return answer.ok ? succeed(ctx.out, answer.body) : fail(ctx.err, answer.error);
}
