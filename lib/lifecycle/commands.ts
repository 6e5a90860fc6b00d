/** Lifecycle commands: what can be asked of a license, and who asked. */
import type { Plan } from '../plans/plan.js';
import type { ActivationKind, RevocationReason, SuspensionReason } from './license.js';

/** Who or what caused a transition; recorded in the audit trail. */
export interface Cause {
  /** `admin:<token id>`, `stripe`, `system`, `client`, `reviewer:<name>`, … */
  readonly actor: string;
  /** Free-text reason given by the actor. */
  readonly reason?: string;
  /** External reference: Stripe event id, case id, request id. */
  readonly ref?: string;
}

interface Base<T extends string> {
  readonly type: T;
  /** Default `{ actor: 'system' }`. */
  readonly cause?: Cause;
}

/** Bind a seat. */
export interface ActivateCommand extends Base<'activate'> {
  readonly kind: ActivationKind;
  /** Machine fingerprint, or a domain (normalised: case, scheme, port, path and `www.` dropped). */
  readonly value: string;
  readonly label?: string;
}

/** Free a seat, by id or by kind and value. */
export type DeactivateCommand = Base<'deactivate'> &
  ({ readonly activationId: string } | { readonly kind: ActivationKind; readonly value: string });

/** Keep a floating seat: the machine is still in use. */
export interface HeartbeatCommand extends Base<'heartbeat'> {
  /** The machine fingerprint the seat was checked out for. */
  readonly fingerprint: string;
}

/** Extend the period; reinstates a payment suspension and revives an expired license. */
export interface RenewCommand extends Base<'renew'> {
  readonly periodEndsAt: Date;
  /** The renewal is paid: the license stops being a trial. Default false. */
  readonly endsTrial?: boolean;
}

export interface SuspendCommand extends Base<'suspend'> {
  readonly reason: SuspensionReason;
  readonly note?: string;
}

export interface ReinstateCommand extends Base<'reinstate'> {
  /** Lift the suspension only if it has this reason (a payment recovery must not lift an abuse hold). */
  readonly onlyIf?: SuspensionReason;
}

/** Move to another plan: upgrades now, downgrades at the end of the paid period. */
export interface ChangePlanCommand extends Base<'change_plan'> {
  readonly plan: Plan;
  /** Activations to free when a downgrade leaves fewer seats than are bound. */
  readonly freeActivationIds?: readonly string[];
  /**
   * When a downgrade takes effect: at once when not after `now`. Default: the end of the paid
   * period. Billing sets it from the subscription's own periods, so a downgrade takes effect at
   * the end of the period it was made in however late its event arrives.
   */
  readonly effectiveAt?: Date;
  /**
   * On the license's own plan, keep its seats instead of taking the plan's: the same plan is
   * then `SAME_PLAN` (or cancels a pending change), as it was before seats could differ from the
   * plan. The admin API sets it: a per-seat license's seats follow its subscription's quantity.
   * Default false (billing passes the seats it wants in `plan`).
   */
  readonly keepSeats?: boolean;
}

/** Apply a pending downgrade once its time has come (scheduled). */
export type ApplyPendingChangeCommand = Base<'apply_pending_change'>;

/** Valid until the period ends, then expired. */
export type CancelCommand = Base<'cancel'>;

/** Undo a cancellation before the period ends. */
export type ResumeCommand = Base<'resume'>;

/** Expire a license whose period (and grace) has ended (scheduled). */
export interface ExpireCommand extends Base<'expire'> {
  /** Grace after the period end, in milliseconds. Default 0. */
  readonly graceMs?: number;
}

/** Permanent: the key never validates again. */
export interface RevokeCommand extends Base<'revoke'> {
  readonly reason: RevocationReason;
  readonly note?: string;
}

/** Every lifecycle command. */
export type LicenseCommand =
  | ActivateCommand
  | DeactivateCommand
  | HeartbeatCommand
  | RenewCommand
  | SuspendCommand
  | ReinstateCommand
  | ChangePlanCommand
  | ApplyPendingChangeCommand
  | CancelCommand
  | ResumeCommand
  | ExpireCommand
  | RevokeCommand;

/** The name of a command. */
export type LicenseCommandType = LicenseCommand['type'];
