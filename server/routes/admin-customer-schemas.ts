/** Request bodies and query strings of the customer and e-mail admin routes (shared with the OpenAPI document). */
import { z } from 'zod';

import { OUTBOX_STATUSES, parseOutboxCursor } from '../../lib/store/mongo-email-outbox.js';
import { licenseStatus } from './admin-schemas.js';

const pageSize = (defaultSize: number) => z.coerce.number().int().min(1).max(500).default(defaultSize);

/** An e-mail address (one recipient). */
export const emailAddress = z.email().max(254).describe('E-mail address.');

/** A customer id in a path. */
export const customerIdParam = z.string().min(1).max(128);

/** GET /v1/admin/customers/:customerId/licenses */
export const customerLicensesQuery = z.strictObject({
  status: licenseStatus.optional(),
  limit: pageSize(50),
  cursor: z.string().min(1).max(64).optional().describe("The previous page's `nextCursor`."),
});

/** POST /v1/admin/licenses/:id/resend-key */
export const resendKeyBody = z.strictObject({
  to: emailAddress.optional().describe("Recipient. Default: the address of the license's latest key delivery."),
});

/** GET /v1/admin/emails */
export const listEmailsQuery = z.strictObject({
  status: z.enum(OUTBOX_STATUSES).optional(),
  licenseId: z.string().min(1).max(64).optional(),
  customerId: customerIdParam.optional(),
  limit: pageSize(50),
  cursor: z
    .string()
    .max(128)
    .refine((cursor) => parseOutboxCursor(cursor) !== null, 'is not a cursor of this listing')
    .optional()
    .describe("The previous page's `nextCursor`."),
});
