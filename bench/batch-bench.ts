/**
 * Throughput of operations that take about a microsecond: tinybench times batches of many
 * calls, since timing each call alone would mostly measure the timer.
 */
import { Bench } from 'tinybench';

/** One operation to measure. */
export interface BatchTask {
  readonly name: string;
  readonly run: () => unknown;
}

/** Options for {@link measureBatches}. */
export interface MeasureBatchesOptions {
  /** Calls per timed batch. Default 10,000. */
  readonly batch?: number;
  /** Minimum time per task and round, in ms. Default 1,000. */
  readonly timeMs?: number;
}

// Keeps results alive so the JIT cannot drop the calls.
let sink = 0;

/** Operations per second of each task, all measured in the same process and session. */
export async function measureBatches(tasks: readonly BatchTask[], options: MeasureBatchesOptions = {}): Promise<Map<string, number>> {
  const batch = options.batch ?? 10_000;
  const bench = new Bench({ time: options.timeMs ?? 1_000, warmup: true });
  for (const task of tasks) {
    bench.add(task.name, () => {
      for (let i = 0; i < batch; i++) if (task.run()) sink++;
    });
  }
  await bench.run();
  const rates = new Map<string, number>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark ${task.name} did not complete: ${result.state}`);
    rates.set(task.name, (batch * 1000) / result.period);
  }
  if (sink < 0) console.log(sink);
  return rates;
}
