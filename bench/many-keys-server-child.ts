/**
 * The server of the many-keys benchmark (bench/many-keys.bench.ts) in a process of its own, as it
 * runs when deployed: the benchmark's million keys and request bodies are not in its heap, so its
 * garbage collection is the server's own.
 *
 * Started with `fork()` and the data stores' URLs as arguments; sends `{ type: 'ready', url }`
 * once listening, then answers requests `{ id, type }`:
 * - `stats`: the license cache's hit and miss counts;
 * - `measure-start` / `measure-stop`: the event-loop delay and the garbage-collection pauses
 *   between them, and a CPU profile written to BENCH_CPU_PROFILE when that is set.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

import { pino } from 'pino';

import { startServer } from '../server/main.js';
import { benchServerConfig } from './bench-server-config.js';

/** What `measure-stop` answers. */
export interface ServerMeasure {
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly gcPauses: number;
  readonly gcMs: number;
  readonly gcLongestMs: number;
}

const [redisUrl, mongoUrl] = process.argv.slice(2);
if (redisUrl === undefined || mongoUrl === undefined || process.send === undefined) {
  throw new Error('many-keys-server-child: start it with fork(path, [redisUrl, mongoUrl])');
}
const send = process.send.bind(process);
const server = await startServer(benchServerConfig({ redisUrl, mongoUrl }), { logger: pino({ level: 'silent' }) });

let measuring: { delay: IntervalHistogram; pauses: number[]; observer: PerformanceObserver; profiler: Session | null } | null = null;

async function answer(type: string): Promise<unknown> {
  switch (type) {
    case 'stats':
      return server.keyward.cache.stats();
    case 'measure-start': {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      const pauses: number[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) pauses.push(entry.duration);
      });
      observer.observe({ entryTypes: ['gc'] });
      const profiler = process.env['BENCH_CPU_PROFILE'] === undefined ? null : new Session();
      if (profiler !== null) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      delay.enable();
      measuring = { delay, pauses, observer, profiler };
      return null;
    }
    case 'measure-stop': {
      if (measuring === null) throw new Error('measure-stop without measure-start');
      const { delay, pauses, observer, profiler } = measuring;
      measuring = null;
      delay.disable();
      observer.disconnect();
      if (profiler !== null) {
        const { profile } = await profiler.post('Profiler.stop');
        await writeFile(process.env['BENCH_CPU_PROFILE'] as string, JSON.stringify(profile));
        profiler.disconnect();
      }
      const measure: ServerMeasure = {
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
        gcPauses: pauses.length,
        gcMs: pauses.reduce((sum, ms) => sum + ms, 0),
        gcLongestMs: Math.max(0, ...pauses),
      };
      return measure;
    }
    case 'stop':
      await server.stop();
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown request ${type}`);
  }
}

process.on('message', (message: { id: number; type: string }) => {
  answer(message.type).then(
    (value) => send({ id: message.id, value }),
    (error: unknown) => send({ id: message.id, error: String(error) }),
  );
});
send({ type: 'ready', url: server.url });
