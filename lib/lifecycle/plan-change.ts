/**
 * Plan changes. Upgrades (a higher rank, or more machine seats on the same plan) apply now;
 * downgrades (a lower rank, or fewer seats) wait for the end of the paid period as a pending
 * change; the key never changes. A change to another plan with fewer seats than are bound (a
 * downgrade, or an upgrade that trades machines for domains) must say which activations to
 * free. A change of seats alone (a per-seat subscription's quantity) need not: when it takes
 * effect, the machines bound last above the new count are freed (the customer frees others
 * first by deactivating them), as applying a pending change does for seats bound after it was
 * scheduled.
 */
import type { PlanLimits } from '../plans/plan.js';
import type { ApplyPendingChangeCommand, ChangePlanCommand } from './commands.js';
import { limitFor } from './activation.js';
import type { Activation, ActivationKind, License, PendingPlanChange } from './license.js';
import { refuse, type LifecycleResult } from './outcome.js';
import { transition } from './transition.js';

const KINDS: readonly ActivationKind[] = ['machine', 'domain'];

/** Activations left over a plan's limits after freeing the chosen ones, per kind. */
function excessAfterFreeing(activations: readonly Activation[], limits: PlanLimits, free: ReadonlySet<string>) {
  return KINDS.map((kind) => {
    const limit = limitFor({ limits }, kind);
    const kept = activations.filter((a) => a.kind === kind && !free.has(a.id)).length;
    return { kind, limit, kept, excess: limit === null ? 0 : Math.max(0, kept - limit) };
  });
}

/** Activations kept under `limits` when the chosen ones are freed and, above a limit, the newest. */
function keepWithin(activations: readonly Activation[], limits: PlanLimits, chosen: ReadonlySet<string>): { kept: Activation[]; autoFreed: string[] } {
  let kept = activations.filter((a) => !chosen.has(a.id));
  const autoFreed: string[] = [];
  for (const kind of KINDS) {
    const limit = limitFor({ limits }, kind);
    const ofKind = kept.filter((a) => a.kind === kind).sort((a, b) => a.activatedAt.getTime() - b.activatedAt.getTime());
    if (limit === null || ofKind.length <= limit) continue;
    const extra = new Set(ofKind.slice(limit).map((a) => a.id));
    autoFreed.push(...extra);
    kept = kept.filter((a) => !extra.has(a.id));
  }
  return { kept, autoFreed };
}

/** Machine seats, `null` (no machine binding) counting as unlimited. */
const machineSeats = (limits: PlanLimits): number => limits.maxActivations ?? Number.POSITIVE_INFINITY;

/** Changes the plan or its seats: upgrade now, downgrade at the period end (or now when perpetual). */
export function changePlan(license: License, command: ChangePlanCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return refuse('LICENSE_REVOKED', 'The license is revoked.');
  if (license.status === 'expired') return refuse('LICENSE_EXPIRED', 'The license has expired; renew it first.');
  const { plan } = command;
  const seatsOnly = plan.id === license.planId && command.keepSeats !== true && plan.limits.maxActivations !== license.limits.maxActivations;
  if (plan.id === license.planId && !seatsOnly) {
    if (license.pendingChange === null) return refuse('SAME_PLAN', `The license is already on plan "${plan.id}".`);
    return transition(license, { pendingChange: null }, 'change_plan', command.cause, now, {
      cancelledPendingPlanId: license.pendingChange.planId,
    });
  }
  const target = { planId: plan.id, planRank: plan.rank, limits: plan.limits, features: plan.features };
  // Any plan with fewer seats than are bound needs a choice of which to free, upgrade or not.
  const free = new Set(command.freeActivationIds ?? []);
  const unknown = [...free].filter((id) => !license.activations.some((a) => a.id === id));
  if (unknown.length > 0) return refuse('UNKNOWN_ACTIVATION', 'Some activations to free are not on this license.', { unknown });
  const over = seatsOnly ? [] : excessAfterFreeing(license.activations, plan.limits, free).filter((k) => k.excess > 0);
  if (over.length > 0) {
    return refuse(
      'SEATS_EXCEED_PLAN',
      `Plan "${plan.id}" allows fewer seats than are activated; choose which activations to free.`,
      { over: over.map(({ kind, limit, kept, excess }) => ({ kind, limit, active: kept, toFree: excess })) },
    );
  }
  const freeActivationIds = [...free];
  const upgrade = seatsOnly ? machineSeats(plan.limits) > machineSeats(license.limits) : plan.rank >= license.planRank;
  const seats = seatsOnly ? { fromSeats: license.limits.maxActivations, toSeats: plan.limits.maxActivations } : {};
  const periodEndsAt = command.effectiveAt ?? license.periodEndsAt;
  if (upgrade || periodEndsAt === null || periodEndsAt.getTime() <= now.getTime()) {
    const { kept, autoFreed } = keepWithin(license.activations, plan.limits, free);
    return transition(
      license,
      { ...target, pendingChange: null, activations: kept },
      'change_plan',
      command.cause,
      now,
      {
        fromPlanId: license.planId,
        toPlanId: plan.id,
        kind: upgrade ? 'upgrade' : 'downgrade',
        ...seats,
        ...(freeActivationIds.length > 0 ? { freedActivationIds: freeActivationIds } : {}),
        ...(autoFreed.length > 0 ? { autoFreedActivationIds: autoFreed } : {}),
        ...(upgrade && license.pendingChange ? { cancelledPendingPlanId: license.pendingChange.planId } : {}),
      },
    );
  }
  const pendingChange: PendingPlanChange = { ...target, effectiveAt: periodEndsAt, freeActivationIds };
  return transition(license, { pendingChange }, 'change_plan', command.cause, now, {
    fromPlanId: license.planId,
    toPlanId: plan.id,
    kind: 'downgrade_scheduled',
    ...seats,
    effectiveAt: periodEndsAt,
  });
}

/**
 * Applies a pending downgrade when it is due. The chosen activations are freed; seats bound
 * after the downgrade was scheduled that still exceed the new limit are freed newest first.
 */
export function applyPendingChange(license: License, command: ApplyPendingChangeCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return refuse('LICENSE_REVOKED', 'The license is revoked.');
  const pending = license.pendingChange;
  if (pending === null) return refuse('NO_PENDING_CHANGE', 'The license has no pending plan change.');
  if (now.getTime() < pending.effectiveAt.getTime()) {
    return refuse('NOT_DUE', 'The pending plan change is not due yet.', { effectiveAt: pending.effectiveAt });
  }
  const chosen = new Set(pending.freeActivationIds);
  const { kept, autoFreed } = keepWithin(license.activations, pending.limits, chosen);
  const { planId, planRank, limits, features } = pending;
  return transition(
    license,
    { planId, planRank, limits, features, activations: kept, pendingChange: null },
    'apply_pending_change',
    command.cause,
    now,
    { toPlanId: planId, freedActivationIds: [...chosen].filter((id) => license.activations.some((a) => a.id === id)), autoFreedActivationIds: autoFreed },
  );
}
