/** A transactional e-mail to send: what billing, the admin API and the scheduler put in the outbox. */

/** The e-mails Keyward sends; each has a plain-text and an HTML template. */
export const EMAIL_KINDS = ['key_delivery', 'trial_ending', 'payment_failed', 'license_suspended', 'license_revoked', 'webhook_endpoint_disabled'] as const;

/** E-mails to a license's owner, about the license. */
export const LICENSE_EMAIL_KINDS = ['key_delivery', 'trial_ending', 'payment_failed', 'license_suspended', 'license_revoked'] as const satisfies readonly EmailKind[];

/** E-mails to the operator (a webhook endpoint disabled for failing); their `licenseId` is empty. */
export const OPERATOR_EMAIL_KINDS = ['webhook_endpoint_disabled'] as const satisfies readonly EmailKind[];

/** One of {@link EMAIL_KINDS}. */
export type EmailKind = (typeof EMAIL_KINDS)[number];

/** A request to send one e-mail about one license. */
export interface EmailRequest {
  readonly kind: EmailKind;
  /** Recipient address. */
  readonly to: string;
  readonly licenseId: string;
  readonly customerId: string | null;
  /**
   * Idempotency key: a second request with the same key is not queued again (e.g.
   * `key_delivery:<subscription id>`, or `resend:<request id>` for a deliberate resend).
   */
  readonly dedupeKey: string;
  /** Values the template uses beside the license (plan name, dates, reasons). Never the key. */
  readonly data?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Where e-mail requests go; the sender delivers them later, so a mail server that is down delays, never loses. */
export interface EmailOutbox {
  /**
   * Records the request durably.
   *
   * @returns The outbox id, and whether this call created it (`false`: the dedupe key was known).
   */
  enqueue(request: EmailRequest, now: Date): Promise<{ readonly id: string; readonly created: boolean }>;
}
