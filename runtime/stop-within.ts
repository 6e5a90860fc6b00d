/**
 * Bounded stops. A part that waits on a data store that is down (a BullMQ worker closing while
 * Redis is away, a driver flushing to a stopped MongoDB) must not hold the whole shutdown: each
 * stop gets a deadline, and what was given up on is reported by name.
 */

/** How one stop went. */
export type StopOutcome =
  | { readonly part: string; readonly outcome: 'stopped' }
  | { readonly part: string; readonly outcome: 'failed'; readonly error: unknown }
  | { readonly part: string; readonly outcome: 'gave-up'; readonly afterMs: number };

/**
 * Runs `stop` and waits at most `timeoutMs` for it. Never rejects: a failure or a timeout is the
 * outcome. The stop keeps running in the background after a timeout (nothing can cancel it); the
 * caller decides whether to exit anyway.
 *
 * @param part - Name of what is stopped, for the report (e.g. `worker module billing`).
 */
export async function stopWithin(part: string, timeoutMs: number, stop: () => Promise<void>): Promise<StopOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<StopOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ part, outcome: 'gave-up', afterMs: timeoutMs }), timeoutMs);
  });
  const attempt = Promise.resolve()
    .then(stop)
    .then(
      (): StopOutcome => ({ part, outcome: 'stopped' }),
      (error: unknown): StopOutcome => ({ part, outcome: 'failed', error }),
    );
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The parts of `outcomes` that did not stop cleanly, as `name (reason)` strings for a log line. */
export function describeUnfinished(outcomes: readonly StopOutcome[]): string[] {
  return outcomes.flatMap((outcome) => {
    if (outcome.outcome === 'gave-up') return [`${outcome.part} (no answer within ${outcome.afterMs} ms)`];
    if (outcome.outcome === 'failed') {
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      return [`${outcome.part} (${message.split('\n')[0] ?? ''})`];
    }
    return [];
  });
}
