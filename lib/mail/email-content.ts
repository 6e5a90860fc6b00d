/**
 * What an e-mail says, before it is laid out: a subject and blocks. Templates (email-templates.ts)
 * build this from facts; one layout (render-email.ts) turns it into plain text and escaped HTML,
 * so no template can forget to escape.
 */
import type { LicenseStatus, RevocationReason, SuspensionReason } from '../lifecycle/license.js';
import type { EmailKind } from './email-request.js';

/** One block of an e-mail body. */
export type EmailBlock =
  | { readonly type: 'paragraph'; readonly text: string }
  /** The license key, set apart so that it can be copied. */
  | { readonly type: 'key'; readonly key: string }
  /** Label / value pairs (plan, valid until, …). */
  | { readonly type: 'facts'; readonly facts: ReadonlyArray<readonly [label: string, value: string]> }
  /** A call to action; only http(s) URLs are ever rendered as links. */
  | { readonly type: 'link'; readonly label: string; readonly url: string };

/** A composed e-mail. */
export interface EmailContent {
  readonly subject: string;
  readonly blocks: readonly EmailBlock[];
}

/** What templates know about the license an e-mail is about (read at send time, never the key's digest). */
export interface EmailLicenseFacts {
  readonly id: string;
  readonly product: string;
  readonly planId: string;
  /** Display name of the plan; the plan id when the catalogue no longer has it. */
  readonly planName: string;
  /** Masked key, e.g. `TO-****-****-****-E05Q`. */
  readonly keyMask: string;
  readonly status: LicenseStatus;
  readonly periodEndsAt: Date | null;
  readonly trialEndsAt: Date | null;
  readonly suspensionReason: SuspensionReason | null;
  readonly revocationReason: RevocationReason | null;
}

/** Values a request carried for its template (see EmailRequest.data). */
export type EmailData = Readonly<Record<string, string | number | boolean | null>>;

/** Everything a template needs. Only key delivery carries the plain key, decrypted by the sender at send time. */
export type EmailInput =
  | { readonly kind: 'key_delivery'; readonly license: EmailLicenseFacts; readonly data: EmailData; readonly key: string }
  | { readonly kind: Exclude<EmailKind, 'key_delivery' | 'webhook_endpoint_disabled'>; readonly license: EmailLicenseFacts; readonly data: EmailData }
  /** To the operator: a webhook endpoint was disabled for failing (no license involved). */
  | { readonly kind: 'webhook_endpoint_disabled'; readonly data: EmailData };
