/** The baseline of the HTTP benchmarks: a bare Koa route answering a fixed JSON. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { Router } from '@koa/router';
import Koa from 'koa';

import { jsonBody } from '../server/http/json-body.js';

/**
 * The baseline: a Koa route answering the same JSON. With `readBody`, it first reads the JSON
 * request body the way the server does (a second reference point: any route that takes input
 * pays for reading it).
 */
export async function bareServer(answer: unknown, readBody = false): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  const router = new Router();
  const json = JSON.stringify(answer);
  if (readBody) app.use(jsonBody({ limitBytes: 16_384 }));
  router.post('/v1/licenses/validate', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = json;
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/licenses/validate`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

