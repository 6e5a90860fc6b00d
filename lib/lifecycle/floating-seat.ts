/**
 * Floating seats: on a plan with `limits.floating`, `maxActivations` machines may be in use at
 * once. A check-out (an activate command) takes a seat; heartbeats keep it; a machine that
 * sends none for `heartbeatSeconds` has lapsed, and its seat is free for the next check-out.
 *
 * Invariant: at any `now`, the live machine seats of a license never outnumber
 * `maxActivations`. Each check-out is decided on the license as read and written with the
 * version guard of every command, so N concurrent check-outs on k free seats give exactly k.
 */
import type { ActivateCommand, HeartbeatCommand } from './commands.js';
import { activationIdFor, normaliseFingerprint } from './binding-value.js';
import { periodEnded, type Activation, type License } from './license.js';
import { refuse, type LifecycleResult } from './outcome.js';
import { transition } from './transition.js';

/** When a floating seat lapses: its last heartbeat (or check-out) plus the plan's interval. */
export function leaseEndOf(activation: Activation, heartbeatSeconds: number): Date {
  return new Date((activation.lastHeartbeatAt ?? activation.activatedAt).getTime() + heartbeatSeconds * 1000);
}

/** Whether a seat counts at `now`: always for fixed seats, while its lease runs for a floating one. */
export function isSeatLive(license: Pick<License, 'limits'>, activation: Activation, now: Date): boolean {
  const floating = license.limits.floating;
  if (floating === undefined || activation.kind !== 'machine') return true;
  return now.getTime() < leaseEndOf(activation, floating.heartbeatSeconds).getTime();
}

/** Machine seats in use at `now`. */
export function liveMachineSeats(license: Pick<License, 'limits' | 'activations'>, now: Date): Activation[] {
  return license.activations.filter((activation) => activation.kind === 'machine' && isSeatLive(license, activation, now));
}

function refuseUnusable(license: License, now: Date): LifecycleResult | null {
  if (license.status === 'revoked') return refuse('LICENSE_REVOKED', 'The license is revoked.');
  if (license.status === 'suspended') return refuse('LICENSE_SUSPENDED', 'The license is suspended.');
  if (license.status === 'expired' || periodEnded(license, now)) return refuse('LICENSE_EXPIRED', 'The license has expired.');
  return null;
}

/**
 * Checks a floating seat out for a machine (the activate command on a floating plan). A machine
 * that holds a live seat keeps it, with a fresh lease; lapsed seats of other machines are dropped
 * from the record as the new seat is written, so the list stays as long as the seats in use.
 */
export function checkOut(license: License, command: ActivateCommand, now: Date): LifecycleResult {
  const unusable = refuseUnusable(license, now);
  if (unusable) return unusable;
  const floating = license.limits.floating;
  const limit = license.limits.maxActivations;
  if (floating === undefined || limit === null) return refuse('NOT_FLOATING', 'The plan of this license has no floating seats.');
  const value = normaliseFingerprint(command.value);
  if (value === null) return refuse('INVALID_COMMAND', 'The fingerprint must be 1-256 printable characters.');
  const live = liveMachineSeats(license, now);
  const own = live.find((seat) => seat.value === value);
  if (own) return renewLease(license, own, 'activate', command, now);
  if (live.length >= limit) {
    const nextFreeAt = new Date(Math.min(...live.map((seat) => leaseEndOf(seat, floating.heartbeatSeconds).getTime())));
    return refuse('ACTIVATION_LIMIT_REACHED', `All ${limit} floating seats of the license are in use; one frees when its machine stops sending heartbeats.`, {
      limit,
      used: live.length,
      nextFreeAt: nextFreeAt.toISOString(),
    });
  }
  const seat: Activation = {
    id: activationIdFor(license.id, 'machine', value),
    kind: 'machine',
    value,
    label: command.label ?? null,
    activatedAt: now,
    lastHeartbeatAt: now,
  };
  const kept = license.activations.filter((activation) => activation.kind !== 'machine' || (activation.value !== value && isSeatLive(license, activation, now)));
  return transition(license, { activations: [...kept, seat] }, 'activate', command.cause, now, {
    activationId: seat.id,
    kind: 'machine',
    floating: true,
    leaseEndsAt: leaseEndOf(seat, floating.heartbeatSeconds),
  });
}

/** Keeps a live floating seat: its lease runs again from `now`. A lapsed seat must be checked out again. */
export function heartbeat(license: License, command: HeartbeatCommand, now: Date): LifecycleResult {
  const unusable = refuseUnusable(license, now);
  if (unusable) return unusable;
  if (license.limits.floating === undefined) {
    return refuse('NOT_FLOATING', 'The plan of this license has fixed seats: validate instead of sending heartbeats.');
  }
  const value = normaliseFingerprint(command.fingerprint);
  if (value === null) return refuse('INVALID_COMMAND', 'The fingerprint must be 1-256 printable characters.');
  const own = liveMachineSeats(license, now).find((seat) => seat.value === value);
  if (!own) return refuse('NOT_ACTIVATED', 'This machine holds no floating seat (its lease lapsed or it never checked out); check out again.');
  return renewLease(license, own, 'heartbeat', command, now);
}

function renewLease(license: License, seat: Activation, command: string, source: ActivateCommand | HeartbeatCommand, now: Date): LifecycleResult {
  const heartbeatSeconds = (license.limits.floating as { heartbeatSeconds: number }).heartbeatSeconds;
  const renewed: Activation = { ...seat, lastHeartbeatAt: now };
  const activations = license.activations.map((activation) => (activation === seat ? renewed : activation));
  return transition(license, { activations }, command, source.cause, now, {
    activationId: seat.id,
    kind: 'machine',
    floating: true,
    leaseEndsAt: leaseEndOf(renewed, heartbeatSeconds),
  });
}
