/**
 * Admin routes about customers and their e-mail: a customer's licenses (masked keys), sending a
 * license's key again by e-mail, the outbox listing (which holds no keys), and a failed e-mail
 * queued again. Same tokens and
 * scopes as the rest of the admin API; revealing a key is in admin-routes.ts.
 */
import type { Router } from '@koa/router';
import type { Logger } from 'pino';

import { licenseView } from '../../lib/service/license-view.js';
import { resendKey } from '../../lib/service/key-resend.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import type { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { outboxEmailView } from '../../lib/store/outbox-email-view.js';
import { adminOf, type AdminAuth } from '../auth/admin-auth.js';
import { ApiError } from '../http/api-error.js';
import { parseBody, parseInput, parseQuery } from '../http/parse-body.js';
import { customerIdParam, customerLicensesQuery, listEmailsQuery, resendKeyBody } from './admin-customer-schemas.js';
import { emptyBody } from './admin-schemas.js';

/** What the customer routes need. */
export interface AdminCustomerRoutesOptions {
  readonly keyward: Keyward;
  readonly auth: AdminAuth;
  /** The e-mail outbox (resends are queued here; the listing reads it). */
  readonly outbox: MongoEmailOutbox;
  /** Where resends are recorded (who asked, for which license; never a key). */
  readonly logger: Logger;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** License ids are `lic_` and a ULID; anything much longer cannot be one and is not looked up. */
const MAX_ID_LENGTH = 64;

/** Adds the customer and e-mail routes to a router. */
export function addAdminCustomerRoutes(router: Router, options: AdminCustomerRoutesOptions): void {
  const { keyward, auth, outbox, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const read = auth.requireAdmin('read');
  const write = auth.requireAdmin('write');

  router.get('/v1/admin/customers/:customerId/licenses', read, async (ctx) => {
    const customerId = parseInput(customerIdParam, ctx.params['customerId'], 'customerId');
    const query = parseQuery(customerLicensesQuery, ctx);
    // One more than the page tells whether another page follows, without a count.
    const found = await keyward.licenses.list({
      customerId,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.cursor === undefined ? {} : { after: query.cursor }),
      limit: query.limit + 1,
    });
    const page = found.slice(0, query.limit);
    ctx.body = {
      customerId,
      data: page.map(licenseView),
      nextCursor: found.length > query.limit ? (page.at(-1)?.license.id ?? null) : null,
    };
  });

  router.post('/v1/admin/licenses/:id/resend-key', write, async (ctx) => {
    const body = parseBody(resendKeyBody, ctx);
    const id = ctx.params['id'] ?? '';
    if (id.length > MAX_ID_LENGTH) throw new ApiError('NOT_FOUND', `No license "${id.slice(0, MAX_ID_LENGTH)}".`);
    const result = await resendKey({ licenses: keyward.licenses, outbox }, id, { now: clock(), ...(body.to === undefined ? {} : { to: body.to }) });
    if (!result.ok) throw new ApiError(result.refusal.code, result.refusal.message);
    logger.info(
      { event: 'resend_key', licenseId: result.licenseId, emailId: result.emailId, actor: `admin:${adminOf(ctx).tokenId}`, requestId: ctx.state['requestId'] },
      'license key queued for e-mail again',
    );
    ctx.status = 202;
    ctx.body = { id: result.emailId, licenseId: result.licenseId, to: result.to, status: 'pending' };
  });

  router.post('/v1/admin/emails/:emailId/retry', write, async (ctx) => {
    parseBody(emptyBody, ctx);
    const emailId = ctx.params['emailId'] ?? '';
    const email = /^eml_[0-9a-f]{24}$/.test(emailId) ? await outbox.retryFailed(emailId, clock()) : null;
    if (!email) throw new ApiError('NOT_FOUND', `No failed e-mail "${emailId.slice(0, MAX_ID_LENGTH)}".`);
    logger.info({ event: 'retry_email', emailId, actor: `admin:${adminOf(ctx).tokenId}`, requestId: ctx.state['requestId'] }, 'failed e-mail queued again');
    ctx.status = 202;
    ctx.body = outboxEmailView(email);
  });

  router.get('/v1/admin/emails', read, async (ctx) => {
    const query = parseQuery(listEmailsQuery, ctx);
    const page = await outbox.list({
      limit: query.limit,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.licenseId === undefined ? {} : { licenseId: query.licenseId }),
      ...(query.customerId === undefined ? {} : { customerId: query.customerId }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    });
    ctx.body = { data: page.data.map(outboxEmailView), nextCursor: page.nextCursor };
  });
}
