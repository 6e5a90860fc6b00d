/**
 * The worker module that serves `/metrics` (WORKER_METRICS_PORT, 0 = off) from one registry that
 * the other modules register their metrics in (see worker/modules.ts).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

import { describeListenFailure } from '../../runtime/startup-error.js';
import type { WorkerModule } from '../worker-module.js';
import { startMetricsServer } from './metrics-server.js';

/** Options for {@link createMetricsModule}. */
export interface MetricsModuleOptions {
  /** The registry to serve; give the same one to the modules that record metrics. Required. */
  readonly registry: Registry;
  /** Also record the Node.js process metrics (CPU, memory, event loop). Default: true. */
  readonly processMetrics?: boolean;
}

/** A new registry for one worker process. */
export function createWorkerRegistry(): Registry {
  return new Registry();
}

/**
 * The metrics endpoint as a worker module: listens on `config.metrics.port` (host
 * `config.metrics.host`); does nothing when the port is 0 or the configuration has no `metrics`.
 */
export function createMetricsModule(options: MetricsModuleOptions): WorkerModule {
  let processMetricsStarted = false;
  return {
    name: 'metrics',
    async start(context) {
      const settings = context.config.metrics;
      if (settings === undefined || settings.port === 0) return { stop: async () => undefined };
      if ((options.processMetrics ?? true) && !processMetricsStarted) {
        processMetricsStarted = true;
        collectDefaultMetrics({ register: options.registry });
      }
      const server = await startMetricsServer({ registry: options.registry, port: settings.port, host: settings.host }).catch((error: unknown) => {
        throw describeListenFailure(error, {
          host: settings.host,
          port: settings.port,
          portVariable: 'WORKER_METRICS_PORT',
          hostVariable: 'WORKER_METRICS_HOST',
          what: 'the worker metrics endpoint',
          offHint: 'WORKER_METRICS_PORT=0 turns it off',
        });
      });
      context.logger.info({ url: `${server.url}/metrics` }, 'worker metrics listening');
      return { stop: () => server.close() };
    },
  };
}
