/**
 * The admin API served for a test: a Koa app with the production middleware order (request id
 * → error boundary → JSON body → routes), a Keyward on a fresh database of the real MongoDB and
 * Redis, and admin tokens of each scope. Called with real HTTP.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Router } from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { AdminAuth, createAdminToken } from '../../server/auth/admin-auth.js';
import { errorBoundary } from '../../server/http/error-boundary.js';
import { jsonBody } from '../../server/http/json-body.js';
import { requestId } from '../../server/http/request-id.js';
import { addAdminCustomerRoutes } from '../../server/routes/admin-customer-routes.js';
import { addAdminRoutes } from '../../server/routes/admin-routes.js';
import { startKeyward, type KeywardFixture } from './keyward-fixture.js';

/** An answer: status, parsed JSON body (or null) and headers. */
export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** What a request may carry. `token: null` sends no Authorization header. */
export interface CallOptions {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Sent as is, instead of JSON of `body`. */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

/**
 * One admin API request: JSON body, bearer token (`defaultToken` unless `options.token` says
 * otherwise), and the answer parsed when it is JSON.
 */
export async function callAdminApi(base: string, defaultToken: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const token = options.token === undefined ? defaultToken : options.token;
  const hasBody = options.rawBody !== undefined || options.body !== undefined;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...options.headers,
    },
    ...(hasBody ? { body: options.rawBody ?? JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** A running admin API. */
export interface AdminServer {
  readonly base: string;
  readonly fixture: KeywardFixture;
  readonly tokenStore: MongoAdminTokenStore;
  /** The e-mail outbox behind the routes (no sender runs: e-mails stay pending). */
  readonly outbox: MongoEmailOutbox;
  /** A write token and its id. */
  readonly writeToken: string;
  readonly writeTokenId: string;
  /** A read-only token. */
  readonly readToken: string;
  /** Log lines written by the routes (JSON). */
  readonly logs: string[];
  /** Calls the API; the write token is used unless `token` says otherwise. */
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts the admin API on a free port. */
export async function startAdminServer(): Promise<AdminServer> {
  const fixture = await startKeyward();
  const tokenStore = new MongoAdminTokenStore({ db: fixture.db });
  const logs: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const auth = new AdminAuth({ store: tokenStore });
  const router = new Router();
  const outbox = new MongoEmailOutbox({ db: fixture.db });
  addAdminRoutes(router, { keyward: fixture.keyward, auth, logger, emailOutbox: outbox });
  addAdminCustomerRoutes(router, { keyward: fixture.keyward, auth, logger, outbox });
  const app = new Koa();
  app.use(requestId());
  app.use(errorBoundary(logger));
  app.use(jsonBody({ limitBytes: 16_384 }));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: false }));
  app.on('error', () => undefined);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const now = new Date();
  const write = await createAdminToken(tokenStore, { name: 'test-writer', scope: 'write' }, now);
  const read = await createAdminToken(tokenStore, { name: 'test-reader', scope: 'read' }, now);

  return {
    base,
    fixture,
    tokenStore,
    outbox,
    writeToken: write.token,
    writeTokenId: write.record.id,
    readToken: read.token,
    logs,
    call: (method, path, options = {}) => callAdminApi(base, write.token, method, path, options),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fixture.close();
    },
  };
}
