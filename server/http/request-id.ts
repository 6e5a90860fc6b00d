/** Request ids: taken from a well-formed `X-Request-Id` (set by a proxy) or made here, and echoed. */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Koa middleware: `ctx.state.requestId` and the `X-Request-Id` response header. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = WELL_FORMED.test(given) ? given : randomUUID();
    ctx.state['requestId'] = id;
    ctx.set('x-request-id', id);
    await next();
  };
}
