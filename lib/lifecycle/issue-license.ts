/** Issuing a new license: the first entry of its audit trail. */
import type { Plan } from '../plans/plan.js';
import type { Cause } from './commands.js';
import type { License } from './license.js';
import { refuse, type LifecycleResult } from './outcome.js';

const DAY_MS = 86_400_000;

/** What a new license starts from. */
export interface IssueLicenseInput {
  /** `lic_…`, chosen by the caller (ids are random, and this function is pure). */
  readonly id: string;
  readonly keyDigest: string;
  readonly keyType: string;
  readonly product: string;
  readonly plan: Plan;
  readonly customerId?: string | null;
  /** End of the paid period; `null` or absent for a perpetual license. Ignored for trials. */
  readonly periodEndsAt?: Date | null;
  /** Start as a trial of the plan's `trialDays` (or until `trialEndsAt`). Default false. */
  readonly trial?: boolean;
  /** Trial end, when the billing system sets it; defaults to now + the plan's trial days. */
  readonly trialEndsAt?: Date;
  readonly cause?: Cause;
}

/** Issues a license on a plan; a trial ends (and its period with it) at the trial end. */
export function issueLicense(input: IssueLicenseInput, now: Date): LifecycleResult {
  const { plan } = input;
  let trial: License['trial'] = null;
  let periodEndsAt = input.periodEndsAt ?? null;
  if (input.trial) {
    const endsAt = input.trialEndsAt ?? (plan.trialDays > 0 ? new Date(now.getTime() + plan.trialDays * DAY_MS) : null);
    if (endsAt === null) {
      return refuse('INVALID_COMMAND', `Plan "${plan.id}" has no trial days and no trial end was given.`);
    }
    trial = { endsAt };
    periodEndsAt = endsAt;
  }
  if (periodEndsAt !== null && periodEndsAt.getTime() <= now.getTime()) {
    return refuse('INVALID_COMMAND', 'The period (or trial) end must be in the future.');
  }
  const license: License = {
    id: input.id,
    keyDigest: input.keyDigest,
    keyType: input.keyType,
    product: input.product,
    customerId: input.customerId ?? null,
    planId: plan.id,
    planRank: plan.rank,
    limits: plan.limits,
    features: plan.features,
    status: 'active',
    suspension: null,
    revocation: null,
    trial,
    periodEndsAt,
    cancelAtPeriodEnd: false,
    pendingChange: null,
    activations: [],
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  return {
    ok: true,
    license,
    audit: {
      licenseId: license.id,
      at: now,
      command: 'issue',
      from: null,
      to: 'active',
      cause: input.cause ?? { actor: 'system' },
      details: { planId: plan.id, trial: trial !== null, periodEndsAt },
    },
  };
}
