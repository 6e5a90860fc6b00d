/** The Koa error boundary: every failure is answered by errorAnswer (error-answer.ts). */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import { errorAnswer } from './error-answer.js';

/** Koa middleware: the error boundary. Put it first. */
export function errorBoundary(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
      }
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
