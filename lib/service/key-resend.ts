/**
 * Sending a license's key again, by e-mail: the one rule shared by the admin API and the CLI.
 * The recipient is the one given, else the address of the license's latest key delivery; each
 * resend is a new outbox e-mail (its dedupe key is unique per request), and the key itself is
 * read and decrypted only by the sender, at send time.
 */
import type { EmailOutbox } from '../mail/email-request.js';
import type { OutboxDocument } from '../store/mongo-email-outbox.js';
import type { LicenseService } from './license-service.js';
import { newId } from './new-id.js';

/** What a resend reads and writes. */
export interface KeyResendPorts {
  readonly licenses: Pick<LicenseService, 'get'>;
  readonly outbox: EmailOutbox & { latest(licenseId: string, kind: 'key_delivery'): Promise<OutboxDocument | null> };
}

/** Why a key cannot be resent. */
export interface KeyResendRefusal {
  readonly code: 'NOT_FOUND' | 'RECIPIENT_REQUIRED' | 'LICENSE_REVOKED';
  readonly message: string;
}

/** Outcome of {@link resendKey}. */
export type KeyResendResult =
  | { readonly ok: true; readonly emailId: string; readonly licenseId: string; readonly to: string }
  | { readonly ok: false; readonly refusal: KeyResendRefusal };

/** Queues a key delivery e-mail for a license again. */
export async function resendKey(ports: KeyResendPorts, licenseId: string, request: { readonly to?: string; readonly now: Date }): Promise<KeyResendResult> {
  const record = await ports.licenses.get(licenseId);
  if (!record) return { ok: false, refusal: { code: 'NOT_FOUND', message: `No license "${licenseId.slice(0, 64)}".` } };
  if (record.license.status === 'revoked') {
    return { ok: false, refusal: { code: 'LICENSE_REVOKED', message: 'The license is revoked: its key no longer validates, so it is not sent again.' } };
  }
  const previous = await ports.outbox.latest(licenseId, 'key_delivery');
  const to = request.to ?? previous?.to;
  if (to === undefined) {
    return { ok: false, refusal: { code: 'RECIPIENT_REQUIRED', message: 'No key was e-mailed for this license before: give the address to send it to.' } };
  }
  const { id } = await ports.outbox.enqueue(
    {
      kind: 'key_delivery',
      to,
      licenseId,
      customerId: record.license.customerId,
      dedupeKey: `resend:${licenseId}:${newId('rsd', request.now)}`,
      // The earlier delivery's template data (product name, links) still applies.
      data: previous?.data ?? {},
    },
    request.now,
  );
  return { ok: true, emailId: id, licenseId, to };
}
