/** Commands that move a license between states: renew, suspend, reinstate, cancel, expire, revoke. */
import type {
  CancelCommand,
  ExpireCommand,
  ReinstateCommand,
  RenewCommand,
  ResumeCommand,
  RevokeCommand,
  SuspendCommand,
} from './commands.js';
import { periodEnded, type License } from './license.js';
import { refuse, type LifecycleResult } from './outcome.js';
import { transition } from './transition.js';

const REVOKED = (): LifecycleResult => refuse('LICENSE_REVOKED', 'The license is revoked; it can never be used again.');

/** Extends the period. Lifts a payment suspension and revives an expired license (unless it is held). */
export function renew(license: License, command: RenewCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  const end = command.periodEndsAt;
  if (!(end instanceof Date) || Number.isNaN(end.getTime())) return refuse('INVALID_COMMAND', 'periodEndsAt must be a date.');
  const current = license.periodEndsAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (end.getTime() <= now.getTime() || end.getTime() <= current) {
    return refuse('PERIOD_NOT_EXTENDED', 'The new period end must be later than both now and the current period end.', {
      periodEndsAt: license.periodEndsAt,
    });
  }
  // A renewal pays: it lifts a payment suspension (even one that outlived an expiry), never
  // an abuse hold, dispute or manual suspension.
  const suspension = license.suspension?.reason === 'payment_failed' ? null : license.suspension;
  return transition(
    license,
    {
      status: suspension === null ? 'active' : 'suspended',
      periodEndsAt: end,
      suspension,
      trial: command.endsTrial ? null : license.trial,
    },
    'renew',
    command.cause,
    now,
    { periodEndsAt: end, endsTrial: command.endsTrial ?? false },
  );
}

/** Suspends an active license (payment failure after grace, abuse hold, dispute, by hand). */
export function suspend(license: License, command: SuspendCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  if (license.status === 'expired') return refuse('LICENSE_EXPIRED', 'The license has expired; there is nothing to suspend.');
  if (license.status === 'suspended') {
    return refuse('ALREADY_SUSPENDED', 'The license is already suspended.', { reason: license.suspension?.reason });
  }
  return transition(
    license,
    { status: 'suspended', suspension: { reason: command.reason, at: now, note: command.note ?? null } },
    'suspend',
    command.cause,
    now,
    { reason: command.reason },
  );
}

/** Lifts a suspension, unless the period ended meanwhile (then only a renewal helps). */
export function reinstate(license: License, command: ReinstateCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  if (license.status === 'expired') return refuse('LICENSE_EXPIRED', 'An expired license cannot be reinstated; renew it.');
  if (license.status !== 'suspended') return refuse('NOT_SUSPENDED', 'The license is not suspended.');
  const reason = license.suspension?.reason;
  if (command.onlyIf !== undefined && reason !== command.onlyIf) {
    return refuse('SUSPENDED_FOR_OTHER_REASON', `The license is suspended for "${String(reason)}", not "${command.onlyIf}".`, {
      reason,
    });
  }
  if (periodEnded(license, now)) {
    return refuse('PERIOD_ENDED', 'The period ended while the license was suspended; renew it.', {
      periodEndsAt: license.periodEndsAt,
    });
  }
  return transition(license, { status: 'active', suspension: null }, 'reinstate', command.cause, now, { liftedReason: reason });
}

/** Cancels at the period end: valid until then. */
export function cancel(license: License, command: CancelCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  if (license.status === 'expired') return refuse('LICENSE_EXPIRED', 'The license has already expired.');
  if (license.periodEndsAt === null) {
    return refuse('NO_PERIOD', 'A perpetual license has no period to end; revoke it instead.');
  }
  if (license.cancelAtPeriodEnd) return refuse('ALREADY_CANCELLED', 'The license is already cancelled at its period end.');
  return transition(license, { cancelAtPeriodEnd: true }, 'cancel', command.cause, now, {
    endsAt: license.periodEndsAt,
  });
}

/** Withdraws a cancellation before the period ends. */
export function resume(license: License, command: ResumeCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  if (license.status === 'expired') return refuse('LICENSE_EXPIRED', 'The license has already expired; renew it.');
  if (!license.cancelAtPeriodEnd) return refuse('NOT_CANCELLED', 'The license is not cancelled.');
  if (periodEnded(license, now)) return refuse('PERIOD_ENDED', 'The period has ended; renew the license instead.');
  return transition(license, { cancelAtPeriodEnd: false }, 'resume', command.cause, now);
}

/** Expires a license whose period and grace have ended. */
export function expire(license: License, command: ExpireCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return REVOKED();
  if (license.status === 'expired') return refuse('ALREADY_EXPIRED', 'The license has already expired.');
  const graceMs = command.graceMs ?? 0;
  if (!periodEnded(license, now, graceMs)) {
    return refuse('NOT_DUE', 'The license period has not ended yet.', { periodEndsAt: license.periodEndsAt });
  }
  // The suspension record stays: a renewal must not launder an abuse hold.
  return transition(license, { status: 'expired', cancelAtPeriodEnd: false }, 'expire', command.cause, now, {
    periodEndsAt: license.periodEndsAt,
    wasTrial: license.trial !== null,
  });
}

/** Revokes for good. */
export function revoke(license: License, command: RevokeCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return refuse('ALREADY_REVOKED', 'The license is already revoked.');
  return transition(
    license,
    {
      status: 'revoked',
      revocation: { reason: command.reason, at: now, note: command.note ?? null },
      suspension: null,
      pendingChange: null,
    },
    'revoke',
    command.cause,
    now,
    { reason: command.reason },
  );
}
