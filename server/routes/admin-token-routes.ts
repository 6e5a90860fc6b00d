/**
 * Admin tokens under `/v1/admin/tokens`, for the CLI and operators: list (never the secrets),
 * create (the plain token is in this one answer only) and revoke. Write scope throughout:
 * handing out credentials is the most powerful thing the API does. A revocation drops the token
 * from this process's cache at once; other processes stop accepting it when their cache entry
 * expires or the invalidation bus tells them, whichever is first.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import type { AdminTokenStore } from '../../lib/store/admin-token-store.js';
import { adminTokenView, createAdminToken, type AdminAuth } from '../auth/admin-auth.js';
import { ApiError } from '../http/api-error.js';
import { parseBody } from '../http/parse-body.js';
import type { OpenApiOperation } from '../openapi.js';

/** POST /v1/admin/tokens */
export const createTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('Who or what the token is for.'),
  scope: z.enum(['read', 'write']).describe('read: GET routes only; write: everything.'),
  expiresInDays: z.number().int().min(1).max(3_650).optional().describe('Expire after this many days. Default: never.'),
});

const emptyBody = z.strictObject({});
const DAY_MS = 86_400_000;

/** What the token routes need. */
export interface AdminTokenRoutesOptions {
  readonly auth: AdminAuth;
  readonly store: AdminTokenStore;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}


/** The routes, for the OpenAPI document. */
export const ADMIN_TOKEN_OPERATIONS: readonly OpenApiOperation[] = [
  { method: 'get', path: '/v1/admin/tokens', summary: 'List admin tokens (never their secrets)', tags: ['admin'], admin: 'write', responses: { 200: 'Tokens, oldest first' } },
  { method: 'post', path: '/v1/admin/tokens', summary: 'Create an admin token (shown once)', tags: ['admin'], admin: 'write', body: createTokenBody, responses: { 201: 'The token and its record' } },
  { method: 'post', path: '/v1/admin/tokens/{id}/revoke', summary: 'Revoke an admin token for good', tags: ['admin'], admin: 'write', responses: { 200: 'Revoked', 404: 'No such unrevoked token' } },
];

/** Adds the token routes. */
export function addAdminTokenRoutes(router: Router, options: AdminTokenRoutesOptions): void {
  const { auth, store } = options;
  const clock = options.clock ?? (() => new Date());
  const write = auth.requireAdmin('write');

  router.get('/v1/admin/tokens', write, async (ctx) => {
    ctx.body = { data: (await store.list()).map(adminTokenView) };
  });

  router.post('/v1/admin/tokens', write, async (ctx) => {
    const body = parseBody(createTokenBody, ctx);
    const now = clock();
    const { token, record } = await createAdminToken(
      store,
      { name: body.name, scope: body.scope, expiresAt: body.expiresInDays === undefined ? null : new Date(now.getTime() + body.expiresInDays * DAY_MS) },
      now,
    );
    ctx.status = 201;
    ctx.set('cache-control', 'no-store');
    ctx.body = { ...adminTokenView(record), token };
  });

  router.post('/v1/admin/tokens/:id/revoke', write, async (ctx) => {
    parseBody(emptyBody, ctx);
    const id = (ctx.params['id'] ?? '').slice(0, 64);
    const at = clock();
    if (!(await store.revoke(id, at))) throw new ApiError('NOT_FOUND', `No unrevoked admin token "${id}".`);
    auth.forget(id);
    ctx.body = { id, revokedAt: at };
  });
}
