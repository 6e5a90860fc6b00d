/**
 * The baseline of the multi-process benchmark: `WEB_CONCURRENCY` processes under node:cluster,
 * each a bare Koa route answering a fixed JSON (bare-server.ts), on `PORT`. The answer comes
 * from the `BARE_ANSWER` environment variable.
 */
import cluster from 'node:cluster';
import { Router } from '@koa/router';
import Koa from 'koa';

const processes = Number(process.env['WEB_CONCURRENCY'] ?? 2);
if (cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = new Koa();
  const router = new Router();
  const json = process.env['BARE_ANSWER'] ?? '{}';
  router.post('/v1/licenses/validate', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = json;
  });
  app.use(router.routes());
  app.listen(Number(process.env['PORT']), '127.0.0.1');
}
