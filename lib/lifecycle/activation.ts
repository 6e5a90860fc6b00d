/** Binding and freeing seats within the plan's limits. */
import type { ActivateCommand, DeactivateCommand } from './commands.js';
import { activationIdFor, normaliseBinding } from './binding-value.js';
import { checkOut } from './floating-seat.js';
import { periodEnded, type Activation, type ActivationKind, type License } from './license.js';
import { refuse, type LifecycleResult } from './outcome.js';
import { transition } from './transition.js';

/** The seat limit for a kind of binding; `null` when the plan does not bind that kind. */
export function limitFor(license: Pick<License, 'limits'>, kind: ActivationKind): number | null {
  return kind === 'machine' ? license.limits.maxActivations : license.limits.maxDomains;
}

/** Seats of one kind currently bound. */
export function seatsOf(license: Pick<License, 'activations'>, kind: ActivationKind): number {
  return license.activations.filter((activation) => activation.kind === kind).length;
}

/** Binds a seat; refuses when the license is not in use or its plan's seats are taken. */
export function activate(license: License, command: ActivateCommand, now: Date): LifecycleResult {
  // On a floating plan, activating a machine checks a seat out for a lease.
  if (command.kind === 'machine' && license.limits.floating !== undefined) return checkOut(license, command, now);
  if (license.status === 'revoked') return refuse('LICENSE_REVOKED', 'The license is revoked.');
  if (license.status === 'suspended') return refuse('LICENSE_SUSPENDED', 'The license is suspended.');
  if (license.status === 'expired' || periodEnded(license, now)) return refuse('LICENSE_EXPIRED', 'The license has expired.');
  const value = normaliseBinding(command.kind, command.value);
  if (value === null) {
    return refuse(
      'INVALID_COMMAND',
      command.kind === 'domain' ? 'The domain is not a valid host name.' : 'The fingerprint must be 1-256 printable characters.',
    );
  }
  const limit = limitFor(license, command.kind);
  if (limit === null) {
    return refuse('BINDING_NOT_ALLOWED', `The plan does not bind licenses to a ${command.kind}.`, { kind: command.kind });
  }
  const existing = license.activations.find((a) => a.kind === command.kind && a.value === value);
  if (existing) return refuse('ALREADY_ACTIVATED', 'This seat is already activated.', { activationId: existing.id });
  const used = seatsOf(license, command.kind);
  if (used >= limit) {
    return refuse(
      command.kind === 'machine' ? 'ACTIVATION_LIMIT_REACHED' : 'DOMAIN_LIMIT_REACHED',
      `All ${limit} ${command.kind === 'machine' ? 'machine seats' : 'domains'} of the license are in use; deactivate one first.`,
      { limit, used },
    );
  }
  const activation: Activation = {
    id: activationIdFor(license.id, command.kind, value),
    kind: command.kind,
    value,
    label: command.label ?? null,
    activatedAt: now,
  };
  return transition(license, { activations: [...license.activations, activation] }, 'activate', command.cause, now, {
    activationId: activation.id,
    kind: activation.kind,
  });
}

/** Frees a seat, by id or by kind and value. Allowed in every state but revoked. */
export function deactivate(license: License, command: DeactivateCommand, now: Date): LifecycleResult {
  if (license.status === 'revoked') return refuse('LICENSE_REVOKED', 'The license is revoked.');
  let target: Activation | undefined;
  if ('activationId' in command) {
    target = license.activations.find((a) => a.id === command.activationId);
  } else {
    const value = normaliseBinding(command.kind, command.value);
    target = license.activations.find((a) => a.kind === command.kind && a.value === value);
  }
  if (!target) return refuse('NOT_ACTIVATED', 'No such activation on this license.');
  const remaining = license.activations.filter((a) => a !== target);
  return transition(license, { activations: remaining }, 'deactivate', command.cause, now, {
    activationId: target.id,
    kind: target.kind,
  });
}
