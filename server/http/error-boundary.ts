/** The Koa error boundary: every failure is answered by errorAnswer (error-answer.ts). */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import { errorAnswer } from './error-answer.js';

/**
 * An error for a status that something below the routes set without a body: no route (404),
 * a route without this method (405, from the router's allowedMethods, which set `Allow`), a
 * method the router does not know at all (501, answered as 405 with the same `Allow`).
 */
function unansweredStatus(ctx: Context): ApiError | undefined {
  if (ctx.body !== undefined && ctx.body !== null) return undefined;
  if (ctx.status === 404) return new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
  if (ctx.status === 405 || ctx.status === 501) {
    const allow = ctx.response.get('allow');
    return new ApiError(
      'METHOD_NOT_ALLOWED',
      `${ctx.method} is not allowed on ${ctx.path}${allow === '' ? '' : `; use ${allow}`}.`,
      { allow: allow === '' ? [] : allow.split(/,\s*/) },
      allow === '' ? {} : { allow },
    );
  }
  return undefined;
}

/** Koa middleware: the error boundary. Put it first. */
export function errorBoundary(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      const unanswered = unansweredStatus(ctx);
      if (unanswered !== undefined) throw unanswered;
    } catch (error) {
      const requestId = typeof ctx.state['requestId'] === 'string' ? ctx.state['requestId'] : null;
      const answer = errorAnswer(error, requestId);
      if (answer.fault) logger.error({ err: error, requestId }, 'request failed');
      ctx.status = answer.status;
      ctx.set(answer.headers);
      ctx.body = answer.body;
    }
  };
}
