/**
 * The routes client software calls: validate on every launch, activate and deactivate seats,
 * heartbeats for floating seats, and the published token keys (`/.well-known/jwks.json`).
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
import { leaseEndOf } from '../../lib/lifecycle/floating-seat.js';
import { normaliseBinding } from '../../lib/lifecycle/binding-value.js';
import { activateBody, deactivateBody, heartbeatBody } from './client-schemas.js';
import { refuseIfLimited, validateRequest } from './validate-request.js';

/** How long clients and proxies may keep the published keys, in seconds. */
export const JWKS_MAX_AGE_SECONDS = 300;

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
      const { license } = result.value;
      const bound = normaliseBinding(kind, value);
      const activation = license.activations.find((a) => a.kind === kind && a.value === bound);
      const floating = kind === 'machine' ? license.limits.floating : undefined;
      ctx.body = {
        activated: true,
        alreadyActive: false,
        activationId: activation?.id ?? null,
        licenseId: license.id,
        ...(floating && activation ? { leaseExpiresAt: leaseEndOf(activation, floating.heartbeatSeconds).toISOString(), heartbeatSeconds: floating.heartbeatSeconds } : {}),
      };
      return;
    }
    if (result.refusal.code === 'ALREADY_ACTIVATED') {
      ctx.body = { activated: true, alreadyActive: true, activationId: result.refusal.details?.['activationId'] ?? null };
      return;
    }
    refusalError(result.refusal);
  });

  // A machine keeps its floating seat; the answer is a fresh validation (with its token).
  router.post('/v1/licenses/heartbeat', async (ctx) => {
    const context = contextOf(ctx);
    refuseIfLimited(rateLimits.consumeIp(context.ip), 'ip', metrics);
    const body = parseBody(heartbeatBody, ctx);
    const prepared = keyward.validation.prepare(body.key);
    if (prepared.digest !== null) refuseIfLimited(rateLimits.consumeKey(prepared.digest), 'key', metrics);
    const result = await keyward.licenses.applyByKey(body.key, {
      type: 'heartbeat',
      fingerprint: body.fingerprint,
      cause: { actor: 'client', ref: String(ctx.state['requestId']) },
    });
    if (!result.ok) refusalError(result.refusal);
    const answer = await keyward.validation.validate(prepared, body, context);
    metrics.countValidation(answer.code);
    ctx.type = 'application/json';
    ctx.body = keyward.validation.answerJson(answer);
  });

  // The keys in force, for clients that verify tokens; cacheable, so a rotation's next key must
  // be published at least max-age before it signs (docs/library.md).
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = JSON.stringify(keyward.signingKeys?.jwks(keyward.now()) ?? { keys: [] });
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
