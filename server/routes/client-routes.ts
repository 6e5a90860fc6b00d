/**
 * The routes client software calls: validate on every launch, activate and deactivate seats.
 * Validation answers are data (HTTP 200 with `valid` and `code`); a body that is not a request
 * is 400; a flood is 429.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Keyward } from '../../lib/service/create-keyward.js';
import type { RequestContext } from '../../lib/service/validation-service.js';
import { ApiError, type AnswerCode } from '../http/api-error.js';
import type { ClientIpResolver } from '../http/client-ip.js';
import { parseBody, requireJson } from '../http/parse-body.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { RateLimits } from '../rate-limit/rate-limits.js';
import { activateBody, deactivateBody } from './client-schemas.js';
import { refuseIfLimited, validateRequest } from './validate-request.js';

/** What the client routes need. */
export interface ClientRoutesOptions {
  readonly keyward: Keyward;
  readonly rateLimits: RateLimits;
  readonly metrics: ServerMetrics;
  readonly clientIp: ClientIpResolver;
}

function header(ctx: Context, name: string): string | null {
  const value = ctx.get(name);
  return value === '' ? null : value.slice(0, 2048);
}

/** A lifecycle or service refusal, answered with its own code and mapped status. */
function refusalError(refusal: { code: AnswerCode; message: string; details?: Readonly<Record<string, unknown>> }): never {
  throw new ApiError(refusal.code, refusal.message, { ...refusal.details });
}

/** Adds the client routes to a router. */
export function addClientRoutes(router: Router, options: ClientRoutesOptions): void {
  const { keyward, rateLimits, metrics, clientIp } = options;

  const contextOf = (ctx: Context): RequestContext => ({
    ip: clientIp(ctx.req),
    origin: header(ctx, 'origin'),
    referer: header(ctx, 'referer'),
    userAgent: header(ctx, 'user-agent'),
  });

  router.post('/v1/licenses/validate', async (ctx) => {
    // Unusual requests only: plain JSON posts are answered by the fast path before Koa.
    const context = contextOf(ctx);
    requireJson(ctx);
    ctx.type = 'application/json';
    ctx.body = await validateRequest(options, (ctx.request as { body?: unknown }).body, context);
  });

  router.post('/v1/licenses/activate', async (ctx) => {
    const context = contextOf(ctx);
    refuseIfLimited(rateLimits.consumeIp(context.ip), 'ip', metrics);
    const body = parseBody(activateBody, ctx);
    const prepared = keyward.validation.prepare(body.key);
    if (prepared.digest !== null) refuseIfLimited(rateLimits.consumeKey(prepared.digest), 'key', metrics);
    const kind = body.fingerprint !== undefined ? 'machine' : 'domain';
    const value = body.fingerprint ?? body.domain ?? '';
    const result = await keyward.licenses.applyByKey(body.key, {
      type: 'activate',
      kind,
      value,
      ...(body.label === undefined ? {} : { label: body.label }),
      cause: { actor: 'client', ref: String(ctx.state['requestId']) },
    }, { ip: context.ip });
    if (result.ok) {
      const activation = result.value.license.activations.at(-1);
      ctx.body = { activated: true, alreadyActive: false, activationId: activation?.id ?? null, licenseId: result.value.license.id };
      return;
    }
    if (result.refusal.code === 'ALREADY_ACTIVATED') {
      ctx.body = { activated: true, alreadyActive: true, activationId: result.refusal.details?.['activationId'] ?? null };
      return;
    }
    refusalError(result.refusal);
  });

  router.post('/v1/licenses/deactivate', async (ctx) => {
    const context = contextOf(ctx);
    refuseIfLimited(rateLimits.consumeIp(context.ip), 'ip', metrics);
    const body = parseBody(deactivateBody, ctx);
    const kind = body.fingerprint !== undefined ? 'machine' : 'domain';
    const result = await keyward.licenses.applyByKey(body.key, {
      type: 'deactivate',
      kind,
      value: body.fingerprint ?? body.domain ?? '',
      cause: { actor: 'client', ref: String(ctx.state['requestId']) },
    });
    if (!result.ok) refusalError(result.refusal);
    ctx.body = { deactivated: true, licenseId: result.value.license.id };
  });
}
