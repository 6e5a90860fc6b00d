/**
 * The validate route's work, shared by its Koa route and its fast path (http/validate-fast-path.ts):
 * per-IP limit → body check → parse and digest the key → per-key limit → validate → count →
 * answer text.
 * Refusals are thrown as ApiErrors; both entry points answer them through errorAnswer.
 */
import type { Keyward } from '../../lib/service/create-keyward.js';
import type { RequestContext, ValidationAnswer } from '../../lib/service/validation-service.js';
import { ApiError } from '../http/api-error.js';
import { parseInput } from '../http/parse-body.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { RateLimits, RateLimitVerdict } from '../rate-limit/rate-limits.js';
import { validateBody } from './client-schemas.js';

/** What the validate work needs. */
export interface ValidateRequestDependencies {
  readonly keyward: Keyward;
  readonly rateLimits: RateLimits;
  readonly metrics: ServerMetrics;
}

/** Throws RATE_LIMITED (429 with Retry-After) when a limit refused the request. */
export function refuseIfLimited(verdict: RateLimitVerdict, scope: 'ip' | 'key', metrics: ServerMetrics): void {
  if (verdict.allowed) return;
  metrics.countRateLimited(scope);
  throw new ApiError(
    'RATE_LIMITED',
    scope === 'ip' ? 'Too many requests from this address; slow down.' : 'Too many requests for this key; slow down.',
    { scope, retryAfterSeconds: verdict.retryAfterSeconds },
    { 'retry-after': String(verdict.retryAfterSeconds) },
  );
}

/**
 * Validates a request body; returns the answer as JSON text (always HTTP 200), synchronously when
 * no store read is needed (the cached hot path), else as a promise. Refusals are thrown, also
 * synchronously.
 */
export function validateRequest(deps: ValidateRequestDependencies, body: unknown, context: RequestContext): string | Promise<string> {
  const { keyward, rateLimits, metrics } = deps;
  refuseIfLimited(rateLimits.consumeIp(context.ip), 'ip', metrics);
  const input = parseInput(validateBody, body ?? {}, '(body)');
  const prepared = keyward.validation.prepare(input.key);
  if (prepared.digest !== null) refuseIfLimited(rateLimits.consumeKey(prepared.digest), 'key', metrics);
  const cached = keyward.validation.validateCached(prepared, input, context);
  if (cached !== undefined) return answerText(deps, cached);
  return keyward.validation.validateUncached(prepared, input, context).then((answer) => answerText(deps, answer));
}

function answerText(deps: ValidateRequestDependencies, answer: ValidationAnswer): string {
  deps.metrics.countValidation(answer.code);
  return deps.keyward.validation.answerJson(answer);
}
