/**
 * Request ids: taken from a well-formed `X-Request-Id` (set by a proxy) or made here, and echoed.
 * Made ids are a random per-process prefix and a counter: unique across instances and restarts,
 * and far cheaper than a UUID per request (ids need to be unique, not secret).
 */
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Makes request ids: the given one when well formed, else prefix-counter. */
export function createRequestIds(): (given: string | undefined) => string {
  const prefix = randomBytes(6).toString('base64url');
  let counter = 0;
  return (given) => (given !== undefined && given !== '' && WELL_FORMED.test(given) ? given : `${prefix}-${(counter++).toString(36)}`);
}

/** Koa middleware: `ctx.state.requestId` and the `X-Request-Id` response header. */
export function requestId(ids: (given: string | undefined) => string = createRequestIds()): Middleware {
  return async (ctx, next) => {
    const id = ids(ctx.get('x-request-id'));
    ctx.state['requestId'] = id;
    ctx.set('x-request-id', id);
    await next();
  };
}
