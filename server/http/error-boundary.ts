/**
 * The one error boundary: every failure becomes `{ error: { code, message, details, requestId } }`
 * with the status of http-status.ts. A message reaches the client only when the error was written
 * for it (ApiError, Keyward errors with a known code); anything else is a 500 with a generic
 * message, logged with its stack.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { KeywardError } from '../../lib/errors/keyward-error.js';
import { ApiError, type AnswerCode } from './api-error.js';
import { httpStatusFor } from './http-status.js';

interface Answer {
  readonly code: AnswerCode;
  readonly message: string;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

const SERVICE_CODES = new Set(['CONCURRENT_UPDATE', 'DATASTORE_UNAVAILABLE', 'DUPLICATE_KEY']);

function answerFor(error: unknown): Answer | null {
  if (error instanceof ApiError) return { code: error.apiCode, message: error.message, details: error.context, headers: { ...error.headers } };
  if (error instanceof KeywardError && SERVICE_CODES.has(error.code)) {
    const code = error.code as AnswerCode;
    return { code, message: error.message, details: {}, headers: code === 'DUPLICATE_KEY' ? {} : { 'retry-after': '1' } };
  }
  return null;
}

/** Koa middleware: the error boundary. Put it first. */
export function errorBoundary(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError('ROUTE_NOT_FOUND', `No route ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const known = answerFor(error);
      const answer: Answer = known ?? { code: 'INTERNAL', message: 'Something went wrong on our side.', details: {}, headers: {} };
      const status = httpStatusFor(answer.code);
      if (status >= 500) logger.error({ err: error, requestId: ctx.state['requestId'] }, 'request failed');
      ctx.status = status;
      ctx.set(answer.headers);
      ctx.body = {
        error: { code: answer.code, message: answer.message, details: answer.details, requestId: ctx.state['requestId'] ?? null },
      };
    }
  };
}
