/** The lifecycle as one pure function: `(license, command, now) -> { license, audit } | refusal`. */
import { activate, deactivate } from './activation.js';
import type { LicenseCommand } from './commands.js';
import { heartbeat } from './floating-seat.js';
import type { License } from './license.js';
import type { LifecycleResult } from './outcome.js';
import { applyPendingChange, changePlan } from './plan-change.js';
import { cancel, expire, reinstate, renew, resume, revoke, suspend } from './status-commands.js';

/**
 * Applies a command to a license at `now`. Never throws for a refused command: the refusal is
 * returned with a specific code. A revoked license refuses every command.
 */
export function applyCommand(license: License, command: LicenseCommand, now: Date): LifecycleResult {
  switch (command.type) {
    case 'activate':
      return activate(license, command, now);
    case 'deactivate':
      return deactivate(license, command, now);
    case 'heartbeat':
      return heartbeat(license, command, now);
    case 'renew':
      return renew(license, command, now);
    case 'suspend':
      return suspend(license, command, now);
    case 'reinstate':
      return reinstate(license, command, now);
    case 'change_plan':
      return changePlan(license, command, now);
    case 'apply_pending_change':
      return applyPendingChange(license, command, now);
    case 'cancel':
      return cancel(license, command, now);
    case 'resume':
      return resume(license, command, now);
    case 'expire':
      return expire(license, command, now);
    case 'revoke':
      return revoke(license, command, now);
    default:
      return assertNever(command);
  }
}

function assertNever(command: never): never {
  throw new TypeError(`Unknown lifecycle command: ${JSON.stringify(command)}`);
}
