/**
 * Request bodies and query strings of the admin API. Shared by the routes and the OpenAPI
 * document. Bodies are strict: an unknown field is refused rather than silently ignored, so a
 * misspelt `periodEndsAt` cannot issue a perpetual license.
 */
import { z } from 'zod';

const isoDateTime = z.iso.datetime({ offset: true });
const planId = z.string().min(1).max(64).describe('Plan id from the catalogue.');
const note = z.string().min(1).max(1_000).describe('Free text for the audit trail.');
/** Page size in a query string. */
const pageSize = (defaultSize: number) => z.coerce.number().int().min(1).max(500).default(defaultSize);

/** Why a license is suspended (`payment_failed` is lifted by a renewal). */
export const suspensionReason = z.enum(['payment_failed', 'abuse_hold', 'dispute', 'manual']);

/** Why a license is revoked. */
export const revocationReason = z.enum(['refund', 'chargeback', 'abuse', 'manual']);

/** License states, for filters. */
export const licenseStatus = z.enum(['active', 'suspended', 'expired', 'revoked']);

/** Most licenses one request may e-mail (each key is one e-mail to the same address). */
const MAX_EMAILED_LICENSES = 100;

/** POST /v1/admin/licenses */
export const issueLicensesBody = z.strictObject({
  planId,
  keyType: z.string().min(1).max(64).optional().describe('Key type id. Default `trial` for trials, else `production`.'),
  customerId: z.string().min(1).max(128).optional(),
  trial: z.boolean().optional().describe("Start as a trial of the plan's trial days."),
  periodEndsAt: isoDateTime.optional().describe('End of the paid period (ISO 8601); absent for a perpetual license.'),
  count: z.number().int().min(1).max(10_000).default(1).describe('How many licenses to issue on these terms.'),
  email: z
    .email()
    .max(254)
    .optional()
    .describe('E-mail each new key to this address (queued in the outbox; at most 100 licenses per request). Recorded with trials for trial-cycling checks.'),
}).refine((body) => body.email === undefined || body.count <= MAX_EMAILED_LICENSES, {
  path: ['count'],
  message: `at most ${MAX_EMAILED_LICENSES} licenses can be e-mailed in one request`,
});

/** POST /v1/admin/licenses/:id/suspend */
export const suspendBody = z.strictObject({ reason: suspensionReason.default('manual'), note: note.optional() });

/** POST /v1/admin/licenses/:id/reinstate */
export const reinstateBody = z.strictObject({
  onlyIf: suspensionReason.optional().describe('Lift the suspension only when it has this reason.'),
});

/** POST /v1/admin/licenses/:id/revoke */
export const revokeBody = z.strictObject({ reason: revocationReason, note: note.optional() });

/** POST /v1/admin/licenses/:id/renew */
export const renewBody = z.strictObject({
  periodEndsAt: isoDateTime.describe('New end of the paid period (ISO 8601).'),
  endsTrial: z.boolean().optional().describe('The renewal is paid: the license stops being a trial.'),
});

/** POST /v1/admin/licenses/:id/change-plan */
export const changePlanBody = z.strictObject({
  planId,
  freeActivationIds: z.array(z.string().min(1).max(64)).max(1_000).optional().describe('Activations to free when the new plan has fewer seats.'),
});

/** Bodies of commands that take no input: cancel, resume, reveal-key. */
export const emptyBody = z.strictObject({});

/** GET /v1/admin/licenses */
export const listLicensesQuery = z.strictObject({
  status: licenseStatus.optional(),
  customerId: z.string().min(1).max(128).optional(),
  planId: planId.optional(),
  product: z.string().min(1).max(64).optional(),
  limit: pageSize(50),
  cursor: z.string().min(1).max(64).optional().describe("The previous page's `nextCursor`."),
});

/** GET /v1/admin/licenses/:id/audit */
export const auditQuery = z.strictObject({
  afterVersion: z.coerce.number().int().min(0).optional().describe("Entries after this version (the previous page's `nextCursor`)."),
  limit: pageSize(100),
});

/** GET /v1/admin/licenses/:id/usage */
export const usageQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM')
    .optional()
    .describe('Calendar month (UTC) as YYYY-MM. Default: the current month.'),
});
