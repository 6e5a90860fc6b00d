/**
 * Which webhook events a license transition produces: a pure mapping from the transition's
 * audit entry, so that every command the lifecycle knows has its events, and one place says so.
 */
import type { LicenseCommandType } from '../lifecycle/commands.js';
import type { AuditEntry } from '../lifecycle/outcome.js';
import type { WebhookEventType } from './webhook-event.js';

/** The events of a transition (or of `issue`), in the order they happened. */
export function licenseEventTypesOf(audit: Pick<AuditEntry, 'command' | 'from' | 'to' | 'details'>): WebhookEventType[] {
  const command = audit.command as LicenseCommandType | 'issue';
  switch (command) {
    case 'issue':
      return ['license.created'];
    case 'activate':
      return ['license.activated'];
    case 'deactivate':
      return ['license.deactivated'];
    case 'heartbeat':
      // A floating seat's lease running on: no change of the license worth telling anyone about.
      return [];
    case 'renew':
      // A renewal that lifts a payment suspension is also a reinstatement.
      return audit.from === 'suspended' && audit.to === 'active' ? ['license.renewed', 'license.reinstated'] : ['license.renewed'];
    case 'change_plan':
      // A downgrade waits for the period end; cancelling a pending change changes the plan to come.
      return audit.details['kind'] === 'downgrade_scheduled' || !('toPlanId' in audit.details) ? ['license.plan_change_scheduled'] : ['license.plan_changed'];
    case 'apply_pending_change':
      return ['license.plan_changed'];
    case 'suspend':
      return ['license.suspended'];
    case 'reinstate':
      return ['license.reinstated'];
    case 'cancel':
      return ['license.cancelled'];
    case 'resume':
      return ['license.resumed'];
    case 'expire':
      return ['license.expired'];
    case 'revoke':
      return ['license.revoked'];
    default: {
      // A command added to the lifecycle without events is a compile error here.
      const unknown: never = command;
      throw new Error(`No webhook events for license command "${String(unknown)}"`);
    }
  }
}
