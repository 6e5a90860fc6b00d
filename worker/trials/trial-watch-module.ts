/**
 * The trial watch: evaluates the trials that processes without a detector recorded (the server's
 * admin API and activations, the CLI, backends embedding `createKeyward`), which wait in
 * `trial_registrations` with `pendingSince`. Every `intervalMs` it evaluates the waiting trials
 * (and the later trials linked to them), stores the signals, reports them to `hooks.onSignal`,
 * and only then clears the marks, so a crash between the two evaluates them again. Once a day it
 * prunes the network census. Safe on several workers at once: signals are stored by
 * deterministic id and a mark is cleared only if nobody set it again.
 */
import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { TrialCyclingWatch } from '../../lib/service/trial-cycling-watch.js';
import { MongoSignalStore } from '../../lib/store/mongo-signal-store.js';
import type { RunningWorkerModule, WorkerContext, WorkerModule } from '../worker-module.js';

/** Options for {@link createTrialWatchModule}. */
export interface TrialWatchModuleOptions {
  /** Time between sweeps, in ms. Default 5,000 (a trial issued by the admin API is judged within seconds). */
  readonly intervalMs?: number;
  /** Trials evaluated per query; a sweep repeats until fewer are waiting. Default 100. */
  readonly batchSize?: number;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** What one sweep needs. */
export interface TrialSweepDependencies {
  readonly watch: TrialCyclingWatch;
  readonly signals: Pick<MongoSignalStore, 'upsert'>;
  readonly onSignal?: ((signal: AbuseSignal) => Promise<void>) | undefined;
  readonly batchSize: number;
}

/** Evaluates every waiting trial once; returns how many were evaluated and the signals raised. */
export async function sweepPendingTrials(deps: TrialSweepDependencies, now: Date): Promise<{ evaluated: number; signals: AbuseSignal[] }> {
  let evaluated = 0;
  const raised: AbuseSignal[] = [];
  for (;;) {
    const batch = await deps.watch.evaluatePending(now, deps.batchSize);
    if (batch.signals.length > 0) {
      await deps.signals.upsert(batch.signals);
      for (const signal of batch.signals) await deps.onSignal?.(signal);
    }
    const settled = await batch.clear();
    evaluated += batch.evaluated;
    raised.push(...batch.signals);
    // Stop when the queue is empty, or holds only registrations whose license is still being written.
    if (batch.evaluated < deps.batchSize || settled === 0) return { evaluated, signals: raised };
  }
}

/** A started trial watch; `sweep` runs one sweep now (as the timer does). */
export interface RunningTrialWatch extends RunningWorkerModule {
  sweep(): Promise<{ evaluated: number; signals: AbuseSignal[] }>;
}

/** The trial watch module. */
export function createTrialWatchModule(options: TrialWatchModuleOptions = {}): WorkerModule & { readonly running: () => RunningTrialWatch | undefined } {
  const intervalMs = options.intervalMs ?? 5_000;
  const batchSize = options.batchSize ?? 100;
  const clock = options.clock ?? (() => new Date());
  if (!(Number.isInteger(intervalMs) && intervalMs > 0)) throw new Error(`intervalMs must be a positive integer, got ${intervalMs}`);
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  let current: RunningTrialWatch | undefined;
  return {
    name: 'trial-watch',
    running: () => current,
    async start(context: WorkerContext): Promise<RunningTrialWatch> {
      const signals = new MongoSignalStore({ db: context.db });
      await signals.ensureIndexes();
      const watch = new TrialCyclingWatch({
        registrations: context.keyward.trialRegistrations,
        licenseExists: async (ids) => new Set((await context.keyward.licenses.getMany(ids)).map((record) => record.license.id)),
      });
      const deps = {
        watch,
        signals,
        batchSize,
        get onSignal() {
          return context.hooks.onSignal;
        },
      };
      let lastPrune = 0;
      let inFlight: Promise<unknown> = Promise.resolve();
      const sweep = async () => {
        const now = clock();
        const result = await sweepPendingTrials(deps, now);
        if (now.getTime() - lastPrune >= 86_400_000) {
          const pruned = await watch.pruneCensus(now);
          lastPrune = now.getTime();
          if (pruned > 0) context.logger.info({ pruned }, 'network census pruned');
        }
        if (result.signals.length > 0) context.logger.info({ evaluated: result.evaluated, flagged: result.signals.length }, 'pending trials evaluated');
        return result;
      };
      // One sweep at a time: a slow sweep makes the next tick wait rather than overlap.
      const run = () => {
        const next = inFlight.then(sweep);
        inFlight = next.catch((error: unknown) => context.logger.warn({ err: error }, 'trial watch sweep failed'));
        return next;
      };
      const timer = setInterval(() => void run().catch(() => undefined), intervalMs);
      timer.unref();
      current = {
        sweep: run,
        async stop() {
          clearInterval(timer);
          await inFlight;
          current = undefined;
        },
      };
      return current;
    },
  };
}
