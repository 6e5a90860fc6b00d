/**
 * The plan catalogue: checked once when loaded, so that the rest of the system can trust it.
 * A malformed catalogue fails with a ConfigurationError whose `field` names the bad field.
 */
import { z } from 'zod';
import { ConfigurationError } from '../errors/keyward-error.js';
import type { Plan } from './plan.js';

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();

const priceId = z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_...)');
/** A price: its id, or `{ id, perSeat }` when the subscription item's quantity sets the seats. */
const stripePrice = z.union([priceId, z.object({ id: priceId, perSeat: z.boolean().default(false) }).strict()], {
  error: 'must be a Stripe price id ("price_...") or { "id": "price_...", "perSeat": true }',
});

const planSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 lower-case letters, digits, _ or -'),
    name: z.string().min(1).optional(),
    rank: count,
    limits: z
      .object({
        maxActivations: positive.nullable(),
        maxDomains: positive.nullable(),
        validationsPerMonth: positive.nullable(),
        floating: z.object({ heartbeatSeconds: z.number().int().min(10).max(86_400) }).strict().optional(),
      })
      .strict()
      .refine((limits) => limits.floating === undefined || limits.maxActivations !== null, {
        message: 'floating seats need maxActivations (the number of machines in use at once)',
        path: ['floating'],
      }),
    features: z.array(z.string().min(1)).default([]),
    trialDays: count.max(365).default(0),
    stripePriceIds: z.array(stripePrice).default([]),
    abuseThresholds: z
      .object({
        validationsPerHour: positive.optional(),
        distinctIpsPerHour: positive.optional(),
        countriesPerDay: positive.optional(),
        autoSuspendScore: positive.optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((plan, context) => {
    // Seats are machine seats: a per-seat price on a plan without them would sell nothing.
    if (plan.limits.maxActivations !== null) return;
    plan.stripePriceIds.forEach((price, index) => {
      if (typeof price === 'object' && price.perSeat) {
        context.addIssue({
          code: 'custom',
          path: ['stripePriceIds', index, 'perSeat'],
          message: 'a per-seat price needs limits.maxActivations (the machine seats its quantity sets); set a number there or drop perSeat',
        });
      }
    });
  });

const catalogueSchema = z.object({ plans: z.array(planSchema).min(1) }).strict();

/** A loaded catalogue. */
export interface PlanCatalogue {
  readonly plans: readonly Plan[];
  /** The plan with this id. */
  readonly get: (id: string) => Plan | undefined;
  /** The plan that a Stripe price provisions. */
  readonly byStripePrice: (priceId: string) => Plan | undefined;
  /** Whether the price is sold per seat (`{ id, perSeat: true }` in `stripePriceIds`). */
  readonly isPerSeatPrice: (priceId: string) => boolean;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
    '',
  );
}

function uniqueOrThrow<T>(items: readonly T[], valueOf: (item: T) => readonly string[], field: (index: number) => string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    for (const value of valueOf(item)) {
      const first = seen.get(value);
      if (first !== undefined) throw new ConfigurationError(field(index), `${what} "${value}" is already used by plans[${first}]`);
      seen.set(value, index);
    }
  });
}

/**
 * Checks and loads a plan catalogue (`{ plans: [...] }`, as parsed from JSON). Throws a
 * ConfigurationError naming the first bad field: a missing or mistyped value, an unknown
 * field, a repeated plan id, rank or Stripe price id, a per-seat price on a plan without machine
 * seats. A price is its id, or `{ id, perSeat: true }` when it is sold per seat.
 */
export function loadPlanCatalogue(input: unknown): PlanCatalogue {
  const parsed = catalogueSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // An unknown field is reported on its parent object; name the field itself.
    const path = issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : (issue?.path ?? []);
    const field = fieldPath(path) || 'catalogue';
    throw new ConfigurationError(field, issue?.message ?? 'is invalid', parsed.error);
  }
  const plans: Plan[] = parsed.data.plans.map((plan) => {
    const perSeat = plan.stripePriceIds.flatMap((price) => (typeof price === 'object' && price.perSeat ? [price.id] : []));
    return {
      ...plan,
      name: plan.name ?? plan.id,
      features: Object.freeze([...plan.features]),
      stripePriceIds: Object.freeze(plan.stripePriceIds.map((price) => (typeof price === 'string' ? price : price.id))),
      ...(perSeat.length === 0 ? {} : { perSeatStripePriceIds: Object.freeze(perSeat) }),
      abuseThresholds: Object.freeze(stripUndefined(plan.abuseThresholds)),
      limits: Object.freeze(stripUndefined(plan.limits)),
    };
  });
  uniqueOrThrow(plans, (plan) => [plan.id], (i) => `plans[${i}].id`, 'id');
  uniqueOrThrow(plans, (plan) => [String(plan.rank)], (i) => `plans[${i}].rank`, 'rank');
  uniqueOrThrow(plans, (plan) => plan.stripePriceIds, (i) => `plans[${i}].stripePriceIds`, 'price');
  const byId = new Map(plans.map((plan) => [plan.id, plan]));
  const byPrice = new Map(plans.flatMap((plan) => plan.stripePriceIds.map((price) => [price, plan] as const)));
  const perSeatPrices = new Set(plans.flatMap((plan) => plan.perSeatStripePriceIds ?? []));
  return Object.freeze({
    plans: Object.freeze(plans.map((plan) => Object.freeze(plan))),
    get: (id: string) => byId.get(id),
    byStripePrice: (priceId: string) => byPrice.get(priceId),
    isPerSeatPrice: (priceId: string) => perSeatPrices.has(priceId),
  });
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
