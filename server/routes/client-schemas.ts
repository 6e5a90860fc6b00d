/** Request bodies of the client routes. Shared by the routes and the OpenAPI document. */
import { z } from 'zod';

const key = z.string().min(1).max(1024).describe('The license key as the user typed it; case, spaces and dashes are forgiven.');
const fingerprint = z.string().min(1).max(256).describe('Stable identifier of the machine.');
const domain = z.string().min(1).max(253).describe('Domain the client runs on.');

/** POST /v1/licenses/validate */
export const validateBody = z.object({
  key,
  fingerprint: fingerprint.optional(),
  product: z.string().min(1).max(64).optional().describe('Product the client belongs to.'),
  domain: domain.optional(),
});

/** Exactly one of fingerprint and domain names the seat. */
const oneSeat = <T extends { fingerprint?: string | undefined; domain?: string | undefined }>(body: T) =>
  (body.fingerprint === undefined) !== (body.domain === undefined);
const oneSeatMessage = { message: 'give exactly one of fingerprint (a machine) and domain (a site)' };

/** POST /v1/licenses/activate */
export const activateBody = z
  .object({ key, fingerprint: fingerprint.optional(), domain: domain.optional(), label: z.string().max(128).optional() })
  .refine(oneSeat, oneSeatMessage);

/** POST /v1/licenses/heartbeat: a machine keeps its floating seat. */
export const heartbeatBody = z.object({
  key,
  fingerprint,
  product: z.string().min(1).max(64).optional().describe('Product the client belongs to (the audience of the token).'),
});

/** POST /v1/licenses/deactivate */
export const deactivateBody = z.object({ key, fingerprint: fingerprint.optional(), domain: domain.optional() }).refine(oneSeat, oneSeatMessage);
