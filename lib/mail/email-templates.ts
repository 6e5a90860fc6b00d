/**
 * The templates: one per {@link EmailKind}, each a pure function from facts to
 * {@link EmailContent}. Values are plain text here; render-email.ts escapes them for HTML.
 *
 * Data fields the templates read (all optional): `productName` (shown instead of the product
 * id), `manageUrl` (an http(s) link to the customer's account or billing page),
 * `trialEndsAt` and `graceEndsAt` (ISO dates), `reason` (free text shown for a suspension or
 * revocation instead of the stored reason).
 */
import type { RevocationReason, SuspensionReason } from '../lifecycle/license.js';
import type { EmailBlock, EmailContent, EmailData, EmailInput, EmailLicenseFacts } from './email-content.js';

const SUSPENSION_REASONS: Readonly<Record<SuspensionReason, string>> = {
  payment_failed: 'a payment failed',
  abuse_hold: 'unusual use of the key is being reviewed',
  dispute: 'a payment is disputed',
  manual: 'of an administrative decision',
};

const REVOCATION_REASONS: Readonly<Record<RevocationReason, string>> = {
  refund: 'the purchase was refunded',
  chargeback: 'the payment was charged back',
  abuse: 'the key was used against its terms',
  manual: 'of an administrative decision',
};

/** `2026-03-01` (UTC); dates in e-mails are days, not instants. */
export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function text(data: EmailData, name: string): string | null {
  const value = data[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** A data field holding a date, as a day; null when absent or not a date. */
function day(data: EmailData, name: string): string | null {
  const value = text(data, name);
  if (value === null) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : formatDay(date);
}

function productOf(license: EmailLicenseFacts, data: EmailData): string {
  return text(data, 'productName') ?? license.product;
}

function licenseFacts(license: EmailLicenseFacts): EmailBlock {
  return {
    type: 'facts',
    facts: [
      ['License', license.id],
      ['Plan', license.planName],
      ['Key', license.keyMask],
      ['Valid until', license.periodEndsAt === null ? 'no end date' : formatDay(license.periodEndsAt)],
    ],
  };
}

function manageLink(data: EmailData, label: string): EmailBlock[] {
  const url = text(data, 'manageUrl');
  return url === null ? [] : [{ type: 'link', label, url }];
}

/** What every template reads; key delivery reads the key as well. */
interface TemplateInput {
  readonly license: EmailLicenseFacts;
  readonly data: EmailData;
}

type Template = (input: TemplateInput) => EmailContent;

const keyDelivery = ({ license, data, key }: TemplateInput & { readonly key: string }): EmailContent => {
  const product = productOf(license, data);
  const trialEnds = license.trialEndsAt === null ? [] : [{ type: 'paragraph', text: `This is a trial license: it ends on ${formatDay(license.trialEndsAt)}.` } as const];
  return {
    subject: `Your ${product} license key`,
    blocks: [
      { type: 'paragraph', text: `Thank you for choosing ${product}. Here is your license key:` },
      { type: 'key', key },
      ...trialEnds,
      {
        type: 'facts',
        facts: [
          ['Plan', license.planName],
          ['Valid until', license.periodEndsAt === null ? 'no end date' : formatDay(license.periodEndsAt)],
        ],
      },
      { type: 'paragraph', text: 'Keep this e-mail: the key is what activates the software. Do not share it.' },
      ...manageLink(data, 'Manage your license'),
    ],
  };
};

const trialEnding: Template = ({ license, data }) => {
  const product = productOf(license, data);
  const ends = day(data, 'trialEndsAt') ?? (license.trialEndsAt === null ? null : formatDay(license.trialEndsAt));
  return {
    subject: ends === null ? `Your ${product} trial ends soon` : `Your ${product} trial ends on ${ends}`,
    blocks: [
      { type: 'paragraph', text: `Your ${product} trial ${ends === null ? 'ends soon' : `ends on ${ends}`}. Subscribe before then to keep using it without interruption.` },
      licenseFacts(license),
      ...manageLink(data, 'Choose a plan'),
    ],
  };
};

const paymentFailed: Template = ({ license, data }) => {
  const product = productOf(license, data);
  const grace = day(data, 'graceEndsAt');
  return {
    subject: `Payment failed for your ${product} license`,
    blocks: [
      { type: 'paragraph', text: `We could not collect the latest payment for your ${product} license.` },
      {
        type: 'paragraph',
        text: grace === null ? 'Please update your payment method to keep your license active.' : `Please update your payment method by ${grace} to keep your license active.`,
      },
      licenseFacts(license),
      ...manageLink(data, 'Update your payment method'),
    ],
  };
};

const licenseSuspended: Template = ({ license, data }) => {
  const product = productOf(license, data);
  const reason = text(data, 'reason') ?? (license.suspensionReason === null ? null : SUSPENSION_REASONS[license.suspensionReason]);
  return {
    subject: `Your ${product} license is suspended`,
    blocks: [
      { type: 'paragraph', text: `Your ${product} license is suspended${reason === null ? '' : ` because ${reason}`}. The key does not validate until it is reinstated.` },
      licenseFacts(license),
      ...manageLink(data, 'Review your account'),
    ],
  };
};

const licenseRevoked: Template = ({ license, data }) => {
  const product = productOf(license, data);
  const reason = text(data, 'reason') ?? (license.revocationReason === null ? null : REVOCATION_REASONS[license.revocationReason]);
  return {
    subject: `Your ${product} license is revoked`,
    blocks: [
      { type: 'paragraph', text: `Your ${product} license has been revoked${reason === null ? '' : ` because ${reason}`}. The key no longer validates.` },
      licenseFacts(license),
      ...manageLink(data, 'Contact us about your account'),
    ],
  };
};

const webhookEndpointDisabled = ({ data }: { readonly data: EmailData }): EmailContent => {
  const endpoint = text(data, 'endpointId') ?? 'a webhook endpoint';
  const host = text(data, 'host');
  const since = day(data, 'failingSince');
  return {
    subject: `Keyward disabled webhook endpoint ${endpoint}`,
    blocks: [
      {
        type: 'paragraph',
        text: `Deliveries to webhook endpoint ${endpoint}${host === null ? '' : ` (${host})`} kept failing${since === null ? '' : ` since ${since}`}, so Keyward disabled it. New events are not sent to it; failed deliveries stay in its log.`,
      },
      { type: 'paragraph', text: 'Fix the receiver, then enable the endpoint (keyward webhooks update <id> --enable) and redeliver what it missed from its delivery log.' },
      ...(text(data, 'description') === null ? [] : [{ type: 'facts', facts: [['Description', text(data, 'description') ?? '']] } as const]),
    ],
  };
};

/** Composes the e-mail for an input; the switch is exhaustive, so a new kind without a template does not compile. */
export function composeEmail(input: EmailInput): EmailContent {
  switch (input.kind) {
    case 'key_delivery':
      return keyDelivery(input);
    case 'trial_ending':
      return trialEnding(input);
    case 'payment_failed':
      return paymentFailed(input);
    case 'license_suspended':
      return licenseSuspended(input);
    case 'license_revoked':
      return licenseRevoked(input);
    case 'webhook_endpoint_disabled':
      return webhookEndpointDisabled(input);
  }
}
