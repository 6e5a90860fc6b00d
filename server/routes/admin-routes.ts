/**
 * The admin API under `/v1/admin`: issue licenses, read them, apply lifecycle commands, read
 * the audit trail and usage, reveal a key. Every route needs an admin token (read scope for
 * GET, write for the rest); every command is recorded with `admin:<token id>` as its actor and
 * the request id as its reference. A refused command answers its refusal code with the mapped
 * status and writes nothing.
 */
import type { Router, RouterContext } from '@koa/router';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Cause, LicenseCommand } from '../../lib/lifecycle/commands.js';
import type { EmailOutbox } from '../../lib/mail/email-request.js';
import type { Keyward } from '../../lib/service/create-keyward.js';
import { auditEntryView, licenseSummary, licenseView } from '../../lib/service/license-view.js';
import { usageMonth } from '../../lib/service/usage-counter.js';
import type { LicenseRecord } from '../../lib/store/license-record.js';
import { adminOf, type AdminAuth } from '../auth/admin-auth.js';
import { describeUnknownPlan } from '../../lib/plans/unknown-plan.js';
import { ApiError, type AnswerCode } from '../http/api-error.js';
import { parseBody, parseQuery } from '../http/parse-body.js';
import {
  auditQuery,
  changePlanBody,
  emptyBody,
  issueLicensesBody,
  listLicensesQuery,
  reinstateBody,
  renewBody,
  revokeBody,
  suspendBody,
  usageQuery,
} from './admin-schemas.js';

/** What the admin routes need. */
export interface AdminRoutesOptions {
  readonly keyward: Keyward;
  /** Checks admin tokens. */
  readonly auth: AdminAuth;
  /** Where key reveals are recorded (info level; the key itself never). */
  readonly logger: Logger;
  /** Clock, for the default usage month. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Where key deliveries of licenses created with an `email` are queued. Default: none (`email` is refused). */
  readonly emailOutbox?: EmailOutbox;
}

const BASE = '/v1/admin/licenses';
/** License ids are `lic_` and a ULID; anything much longer cannot be one and is not looked up. */
const MAX_ID_LENGTH = 64;

/** A lifecycle or service refusal, answered with its own code and mapped status. */
function refusalError(refusal: { code: AnswerCode; message: string; details?: Readonly<Record<string, unknown>> }): never {
  throw new ApiError(refusal.code, refusal.message, { ...refusal.details });
}

function notFound(id: string): never {
  throw new ApiError('NOT_FOUND', `No license "${id.slice(0, MAX_ID_LENGTH)}".`);
}

function idOf(ctx: RouterContext): string {
  return ctx.params['id'] ?? '';
}

/** Adds the admin routes to a router. */
export function addAdminRoutes(router: Router, options: AdminRoutesOptions): void {
  const { keyward, auth, logger } = options;
  const clock = options.clock ?? (() => new Date());
  const read = auth.requireAdmin('read');
  const write = auth.requireAdmin('write');

  const causeOf = (ctx: RouterContext, reason?: string): Cause => ({
    actor: `admin:${adminOf(ctx).tokenId}`,
    ref: String(ctx.state['requestId']),
    ...(reason === undefined ? {} : { reason }),
  });

  const findOrThrow = async (ctx: RouterContext): Promise<LicenseRecord> => {
    const id = idOf(ctx);
    const record = id.length > MAX_ID_LENGTH ? null : await keyward.licenses.get(id);
    return record ?? notFound(id);
  };

  /** A command route: check the body, build the command, apply it, answer the license. */
  const addCommand = <Schema extends z.ZodType>(
    action: string,
    schema: Schema,
    build: (body: z.output<Schema>, ctx: RouterContext) => LicenseCommand,
  ): void => {
    router.post(`${BASE}/:id/${action}`, write, async (ctx) => {
      const command = build(parseBody(schema, ctx), ctx);
      const id = idOf(ctx);
      if (id.length > MAX_ID_LENGTH) notFound(id);
      const result = await keyward.licenses.apply(id, command);
      if (!result.ok) refusalError(result.refusal);
      ctx.body = licenseView(result.value);
    });
  };

  router.post(BASE, write, async (ctx) => {
    const body = parseBody(issueLicensesBody, ctx);
    const outbox = options.emailOutbox;
    if (body.email !== undefined && !outbox) throw new ApiError('INVALID_REQUEST', 'email: this server does not send e-mail.', { issues: [{ path: 'email', message: 'not supported here' }] });
    const result = await keyward.licenses.issueMany(body.count, {
      planId: body.planId,
      ...(body.keyType === undefined ? {} : { keyType: body.keyType }),
      ...(body.customerId === undefined ? {} : { customerId: body.customerId }),
      ...(body.trial === undefined ? {} : { trial: body.trial }),
      ...(body.periodEndsAt === undefined ? {} : { periodEndsAt: new Date(body.periodEndsAt) }),
      // Recorded with trials for trial-cycling checks (the operator's own address is not the customer's).
      ...(body.email === undefined ? {} : { email: body.email }),
      cause: causeOf(ctx),
    });
    if (!result.ok) refusalError(result.refusal);
    const emailIds = new Map<string, string | null>();
    if (body.email !== undefined && outbox) {
      for (const { record } of result.value) {
        const licenseId = record.license.id;
        try {
          const queued = await outbox.enqueue(
            { kind: 'key_delivery', to: body.email, licenseId, customerId: record.license.customerId, dedupeKey: `key_delivery:admin:${licenseId}` },
            clock(),
          );
          emailIds.set(licenseId, queued.id);
        } catch (error) {
          // The licenses exist and their keys are in this answer: report the e-mail as not queued
          // (resend-key can queue it later) rather than fail a request that already wrote.
          logger.error({ err: error, licenseId }, 'key delivery e-mail not queued');
          emailIds.set(licenseId, null);
        }
      }
    }
    ctx.status = 201;
    // The plain keys are in this answer and nowhere else: no cache may keep it.
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      licenses: result.value.map(({ record, key }) => {
        const { id, ...summary } = licenseSummary(record);
        return { id, key, ...summary, ...(emailIds.has(id) ? { emailId: emailIds.get(id) } : {}) };
      }),
    };
  });

  router.get(BASE, read, async (ctx) => {
    const query = parseQuery(listLicensesQuery, ctx);
    // One more than the page tells whether another page follows, without a count.
    const found = await keyward.licenses.list({
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.customerId === undefined ? {} : { customerId: query.customerId }),
      ...(query.planId === undefined ? {} : { planId: query.planId }),
      ...(query.product === undefined ? {} : { product: query.product }),
      ...(query.cursor === undefined ? {} : { after: query.cursor }),
      limit: query.limit + 1,
    });
    const page = found.slice(0, query.limit);
    ctx.body = {
      data: page.map(licenseView),
      nextCursor: found.length > query.limit ? (page.at(-1)?.license.id ?? null) : null,
    };
  });

  router.get(`${BASE}/:id`, read, async (ctx) => {
    ctx.body = licenseView(await findOrThrow(ctx));
  });

  addCommand('suspend', suspendBody, (body, ctx) => ({
    type: 'suspend',
    reason: body.reason,
    ...(body.note === undefined ? {} : { note: body.note }),
    cause: causeOf(ctx, body.note),
  }));
  addCommand('reinstate', reinstateBody, (body, ctx) => ({
    type: 'reinstate',
    ...(body.onlyIf === undefined ? {} : { onlyIf: body.onlyIf }),
    cause: causeOf(ctx),
  }));
  addCommand('revoke', revokeBody, (body, ctx) => ({
    type: 'revoke',
    reason: body.reason,
    ...(body.note === undefined ? {} : { note: body.note }),
    cause: causeOf(ctx, body.note),
  }));
  addCommand('renew', renewBody, (body, ctx) => ({
    type: 'renew',
    periodEndsAt: new Date(body.periodEndsAt),
    ...(body.endsTrial === undefined ? {} : { endsTrial: body.endsTrial }),
    cause: causeOf(ctx),
  }));
  addCommand('change-plan', changePlanBody, (body, ctx) => {
    const plan = keyward.plans.get(body.planId);
    if (!plan) {
      const unknown = describeUnknownPlan(body.planId, keyward.plans);
      throw new ApiError('UNKNOWN_PLAN', unknown.message, { ...unknown.details });
    }
    return {
      type: 'change_plan',
      plan,
      keepSeats: true,
      ...(body.freeActivationIds === undefined ? {} : { freeActivationIds: body.freeActivationIds }),
      cause: causeOf(ctx),
    };
  });
  addCommand('cancel', emptyBody, (_body, ctx) => ({ type: 'cancel', cause: causeOf(ctx) }));
  addCommand('resume', emptyBody, (_body, ctx) => ({ type: 'resume', cause: causeOf(ctx) }));

  router.get(`${BASE}/:id/audit`, read, async (ctx) => {
    const query = parseQuery(auditQuery, ctx);
    const { license } = await findOrThrow(ctx);
    const found = await keyward.licenses.auditTrail(license.id, {
      ...(query.afterVersion === undefined ? {} : { afterVersion: query.afterVersion }),
      limit: query.limit + 1,
    });
    const page = found.slice(0, query.limit);
    const last = page.at(-1);
    ctx.body = {
      data: page.map(auditEntryView),
      nextCursor: found.length > query.limit && last ? String(last.version) : null,
    };
  });

  router.get(`${BASE}/:id/usage`, read, async (ctx) => {
    const query = parseQuery(usageQuery, ctx);
    const { license } = await findOrThrow(ctx);
    const month = query.month ?? usageMonth(clock());
    ctx.body = {
      licenseId: license.id,
      month,
      validations: await keyward.usage.total(license.id, month),
      quota: license.limits.validationsPerMonth,
    };
  });

  router.post(`${BASE}/:id/reveal-key`, write, async (ctx) => {
    parseBody(emptyBody, ctx);
    const record = await findOrThrow(ctx);
    const key = keyward.licenses.revealKey(record);
    // The audit of a reveal: who saw which license's key, never the key.
    logger.info(
      { event: 'reveal_key', licenseId: record.license.id, actor: `admin:${adminOf(ctx).tokenId}`, requestId: ctx.state['requestId'] },
      'license key revealed',
    );
    ctx.set('cache-control', 'no-store');
    ctx.body = { key };
  });
}
