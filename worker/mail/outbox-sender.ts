/**
 * Delivers due outbox e-mails: claims one at a time (atomically, with a lease), reads the license
 * as it is now, renders the template (decrypting the key for a key delivery only now, in memory),
 * sends, and settles the e-mail as sent, retried later or failed. The key is never stored in the
 * outbox and never logged; logs name e-mails by id.
 */
import type { Logger } from 'pino';

import type { EmailInput, EmailLicenseFacts } from '../../lib/mail/email-content.js';
import { checkRetryPolicy, decideAfterFailure, type FailureKind, type RetryPolicy } from '../../lib/mail/delivery-retry.js';
import { renderEmail } from '../../lib/mail/render-email.js';
import type { PlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import type { LicenseService } from '../../lib/service/license-service.js';
import type { LicenseRecord } from '../../lib/store/license-record.js';
import type { ClaimedEmail, MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import type { MailTransport } from './mail-transport.js';
import { classifySendError } from './smtp-transport.js';

/** Options for {@link OutboxSender}. */
export interface OutboxSenderOptions {
  readonly outbox: MongoEmailOutbox;
  /** Reads licenses and decrypts keys (`get`, `revealKey`). */
  readonly licenses: Pick<LicenseService, 'get' | 'revealKey'>;
  /** For plan names. */
  readonly plans: PlanCatalogue;
  readonly transport: MailTransport;
  /** The From header. */
  readonly from: string;
  readonly retry: RetryPolicy;
  /** How long a claim holds an e-mail, in ms. */
  readonly leaseMs: number;
  /** E-mails in flight at once. Default 1. */
  readonly concurrency?: number;
  readonly logger: Logger;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Classifies send errors. Default: SMTP reply codes (classifySendError). */
  readonly classify?: (error: unknown) => FailureKind;
}

/** What one run did. */
export interface DeliveryTally {
  sent: number;
  retried: number;
  failed: number;
  /** Settles refused because another sender took the e-mail over after this one's lease lapsed. */
  leaseLost: number;
}

/** A failure that no retry can fix, found before sending (e.g. the license is gone). */
class UnsendableEmail extends Error {
  override readonly name = 'UnsendableEmail';
}

function licenseFacts(record: LicenseRecord, plans: PlanCatalogue): EmailLicenseFacts {
  const { license } = record;
  return {
    id: license.id,
    product: license.product,
    planId: license.planId,
    planName: plans.get(license.planId)?.name ?? license.planId,
    keyMask: record.keyMask,
    status: license.status,
    periodEndsAt: license.periodEndsAt,
    trialEndsAt: license.trial?.endsAt ?? null,
    suspensionReason: license.suspension?.reason ?? null,
    revocationReason: license.revocation?.reason ?? null,
  };
}

/** A send error as stored and logged: its code and message, which SMTP servers write without the message body. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/** Delivers due outbox e-mails. */
export class OutboxSender {
  readonly #options: OutboxSenderOptions;
  readonly #clock: () => Date;
  readonly #classify: (error: unknown) => FailureKind;
  readonly #domain: string;

  constructor(options: OutboxSenderOptions) {
    checkRetryPolicy(options.retry);
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#classify = options.classify ?? classifySendError;
    this.#domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'keyward.invalid';
  }

  /** Sends due e-mails until none is due or `limit` attempts were made. */
  async deliverDue(limit = 200): Promise<DeliveryTally> {
    const tally: DeliveryTally = { sent: 0, retried: 0, failed: 0, leaseLost: 0 };
    let budget = limit;
    const lane = async (): Promise<void> => {
      while (budget > 0) {
        budget--;
        const claim = await this.#options.outbox.claimDue(this.#clock(), this.#options.leaseMs);
        if (!claim) return;
        await this.#deliver(claim, tally);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#options.concurrency ?? 1) }, lane));
    return tally;
  }

  async #deliver(claim: ClaimedEmail, tally: DeliveryTally): Promise<void> {
    const { outbox, logger, retry } = this.#options;
    const { email } = claim;
    const log = { emailId: email._id, kind: email.kind, licenseId: email.licenseId, attempt: email.attempts };
    if (email.attempts > retry.maxAttempts) {
      // The last attempt's sender died holding the lease: counted, not to be repeated.
      this.#count(await outbox.markFailed(claim, this.#clock(), 'gave up: the last attempt was interrupted'), 'failed', tally);
      logger.error(log, 'e-mail failed: attempts exhausted');
      return;
    }
    try {
      const input = await this.#inputOf(email);
      const rendered = renderEmail(input);
      await this.#options.transport.send({ from: this.#options.from, to: email.to, messageId: `<${email._id}@${this.#domain}>`, ...rendered });
    } catch (error) {
      const kind = error instanceof UnsendableEmail ? 'permanent' : this.#classify(error);
      const reason = describeError(error);
      const decision = decideAfterFailure(email.attempts, kind, retry, this.#clock());
      if (decision.action === 'retry') {
        this.#count(await outbox.markRetry(claim, decision.nextAttemptAt, reason), 'retried', tally);
        logger.warn({ ...log, error: reason, nextAttemptAt: decision.nextAttemptAt }, 'e-mail not delivered; will retry');
      } else {
        this.#count(await outbox.markFailed(claim, this.#clock(), reason), 'failed', tally);
        logger.error({ ...log, error: reason, why: decision.reason }, 'e-mail failed');
      }
      return;
    }
    const settled = await outbox.markSent(claim, this.#clock());
    this.#count(settled, 'sent', tally);
    if (!settled) logger.warn(log, 'e-mail sent after its lease lapsed; another sender may send it again');
    else logger.info(log, 'e-mail sent');
  }

  /** What the template needs: the license read now (operator e-mails need none). */
  async #inputOf(email: ClaimedEmail['email']): Promise<EmailInput> {
    if (email.kind === 'webhook_endpoint_disabled') return { kind: email.kind, data: email.data };
    const record = await this.#options.licenses.get(email.licenseId);
    if (!record) throw new UnsendableEmail(`license ${email.licenseId} not found`);
    const license = licenseFacts(record, this.#options.plans);
    return email.kind === 'key_delivery'
      ? { kind: email.kind, license, data: email.data, key: this.#options.licenses.revealKey(record) }
      : { kind: email.kind, license, data: email.data };
  }

  #count(settled: boolean, outcome: 'sent' | 'retried' | 'failed', tally: DeliveryTally): void {
    if (settled) tally[outcome]++;
    else tally.leaseLost++;
  }
}
