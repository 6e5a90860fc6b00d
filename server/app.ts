/**
 * The HTTP application: middleware in the order it must run, and the routes. Clients and
 * services come in through the options; nothing here reads the environment.
 *
 * Order: request id (so every answer, errors included, carries one) → duration metric →
 * error boundary → JSON body (bounded) → routes.
 */
import { Router } from '@koa/router';
import type { RequestListener } from 'node:http';

import Koa from 'koa';
import type { Logger } from 'pino';

import type { Keyward } from '../lib/service/create-keyward.js';
import { checkReadiness, type ReadinessDependencies } from './check-readiness.js';
import type { ClientIpResolver } from './http/client-ip.js';
import { errorBoundary } from './http/error-boundary.js';
import { jsonBody } from './http/json-body.js';
import { createRequestIds, requestId } from './http/request-id.js';
import { VALIDATE_PATH, withValidateFastPath } from './http/validate-fast-path.js';
import { validateRequest } from './routes/validate-request.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import type { RateLimits } from './rate-limit/rate-limits.js';
import { addClientRoutes } from './routes/client-routes.js';
import { CLIENT_OPERATIONS, buildOpenApiDocument, type OpenApiOperation } from './openapi.js';

const DEFAULT_BODY_LIMIT_BYTES = 16_384;

/** Options for {@link createApp}. */
export interface AppOptions extends ReadinessDependencies {
  /** Where request errors are logged. Required. */
  readonly logger: Logger;
  /** The license services. Required. */
  readonly keyward: Keyward;
  /** Per-IP and per-key limits. Required. */
  readonly rateLimits: RateLimits;
  /** Metrics registry and counters. Required. */
  readonly metrics: ServerMetrics;
  /** Resolves the client address (trusted proxies). Required. */
  readonly clientIp: ClientIpResolver;
  /** Adds the admin API (kept apart so the app can be built without it). Default: none. */
  readonly addAdminRoutes?: (router: Router) => void;
  /** Routes added by addAdminRoutes, for the OpenAPI document. Default: none. */
  readonly adminOperations?: readonly OpenApiOperation[];
  /** Largest JSON body accepted, in bytes; larger bodies get 413. Default 16,384. */
  readonly bodyLimitBytes?: number;
  /** Longest wait per readiness probe in `GET /readyz`. Default: 2 000 ms. */
  readonly readinessTimeoutMs?: number;
}

/**
 * The server's request listener: the validate fast path in front of the Koa application, both
 * built from the same options (see http/validate-fast-path.ts for why).
 */
export function createRequestListener(options: AppOptions): RequestListener {
  const koa = createApp(options).callback();
  const deps = { keyward: options.keyward, rateLimits: options.rateLimits, metrics: options.metrics };
  return withValidateFastPath(
    {
      handle: (body, context) => validateRequest(deps, body, context),
      clientIp: options.clientIp,
      limitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      requestIds: createRequestIds(),
      logger: options.logger,
      observe: observeValidate(options.metrics),
    },
    // Koa's handler settles its own promise (errors go through its boundary and listener).
    (request, response) => void koa(request, response),
  );
}

/**
 * The duration metric for the validate fast path, with one labelled child per status made once:
 * resolving labels on every observation was a measurable share of a validation's cost.
 */
function observeValidate(metrics: ServerMetrics): (status: number, seconds: number) => void {
  const children = new Map<number, { observe(seconds: number): void }>();
  return (status, seconds) => {
    let child = children.get(status);
    if (child === undefined) {
      child = metrics.httpRequestDuration.labels({ method: 'POST', route: VALIDATE_PATH, status: String(status) });
      children.set(status, child);
    }
    child.observe(seconds);
  };
}

/** Builds the HTTP application. */
export function createApp(options: AppOptions): Koa {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2_000;
  const { logger, metrics } = options;
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

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metricsText();
  });

  const openApi = buildOpenApiDocument([...CLIENT_OPERATIONS, ...(options.adminOperations ?? [])]);
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApi;
  });

  addClientRoutes(router, options);
  options.addAdminRoutes?.(router);

  app.use(requestId());
  // Timed outside the boundary, so the status it records is the one the client got.
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = typeof ctx['_matchedRoute'] === 'string' ? ctx['_matchedRoute'] : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
    }
  });
  app.use(errorBoundary(logger));
  app.use(jsonBody({ limitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES }));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  // Koa's one error listener: errors the boundary did not catch (e.g. in a socket) are logged here.
  app.on('error', (error: unknown) => logger.error({ err: error }, 'request failed'));
  return app;
}
