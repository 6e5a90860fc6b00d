import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';

import { checkReadiness, type ReadinessDependencies } from './check-readiness.js';

/** Options for {@link createApp}. */
export interface AppOptions extends ReadinessDependencies {
  /** Where request errors are logged. Required. */
  readonly logger: Logger;
  /** Longest wait per readiness probe in `GET /readyz`. Default: 2 000 ms. */
  readonly readinessTimeoutMs?: number;
}

/**
 * Builds the HTTP application. For now it only answers the health endpoints:
 * - `GET /healthz`: 200 `{ status: 'ok' }` while the process serves requests (liveness).
 * - `GET /readyz`: 200 when Redis and MongoDB both answer, else 503 naming the failed checks
 *   (readiness: take the instance out of rotation, do not restart it).
 *
 * @param options - Clients and logger; see {@link AppOptions}.
 */
export function createApp(options: AppOptions): Koa {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2_000;
  const { logger } = options;
  const app = new Koa();
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const report = await checkReadiness(options, readinessTimeoutMs);
    const failed = Object.entries(report.checks).flatMap(([name, check]) => (check.status === 'failed' ? [name] : []));
    if (!report.ready) logger.warn({ checks: report.checks }, 'not ready');
    ctx.status = report.ready ? 200 : 503;
    // Check names only: failure reasons can carry hostnames and stay in the log.
    ctx.body = {
      status: report.ready ? 'ready' : 'unavailable',
      checks: Object.fromEntries(Object.entries(report.checks).map(([name, check]) => [name, check.status])),
      ...(failed.length > 0 ? { failed } : {}),
    };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's one error listener: without it Koa prints errors to stderr outside our JSON logs.
  app.on('error', (error: unknown) => logger.error({ err: error }, 'request failed'));
  return app;
}
