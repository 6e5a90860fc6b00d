/**
 * The address settings of outbound webhooks, read by the server (to check URLs when an
 * endpoint is saved) and by the worker (to check every resolved address before it connects).
 */
import { z } from 'zod';

import { unsetIfEmpty } from '../config/environment.js';
import type { AddressPolicy } from './address-policy.js';

/** `true`/`1`/`yes` or `false`/`0`/`no`; unset is false. */
export const booleanVariable = z
  .preprocess((value) => (typeof value === 'string' ? unsetIfEmpty(value.toLowerCase()) : value), z.enum(['true', 'false', '1', '0', 'yes', 'no']).default('false'))
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** The two settings that widen where webhooks may go (both off by default). */
export const webhookAddressVariables = {
  /** Allow loopback destinations and plain http:// to them: development only. Default false. */
  WEBHOOK_ALLOW_LOOPBACK: booleanVariable,
  /** Allow private, link-local, unique-local and CGNAT destinations (receivers inside the network). Default false. */
  WEBHOOK_ALLOW_PRIVATE: booleanVariable,
};

/** The policy from parsed variables. */
export function addressPolicyOf(parsed: { readonly WEBHOOK_ALLOW_LOOPBACK: boolean; readonly WEBHOOK_ALLOW_PRIVATE: boolean }): AddressPolicy {
  return { allowLoopback: parsed.WEBHOOK_ALLOW_LOOPBACK, allowPrivate: parsed.WEBHOOK_ALLOW_PRIVATE };
}
