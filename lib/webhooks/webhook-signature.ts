/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 with the
 * endpoint's secret over `<webhook-id>.<webhook-timestamp>.<body>`, sent as `v1,<base64>`, one
 * per secret in force, space-separated. Node's crypto does the HMAC (the `standardwebhooks`
 * package uses a pure-JS SHA-256 and is used by the tests, as receivers use it, to verify).
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key bytes of a `whsec_…` secret. */
export function webhookSecretBytes(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('A webhook secret starts with whsec_');
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

/** What a signature covers. */
export interface SignedContent {
  /** The `webhook-id` header: the event id. */
  readonly id: string;
  /** The `webhook-timestamp` header: Unix seconds of this attempt. */
  readonly timestampSeconds: number;
  /** The exact body sent. */
  readonly body: string;
}

/** The `webhook-signature` header: `v1,<sig>` for each secret, space-separated. */
export function signWebhook(content: SignedContent, secrets: readonly string[]): string {
  if (secrets.length === 0) throw new Error('At least one secret is needed to sign');
  const signed = `${content.id}.${String(content.timestampSeconds)}.${content.body}`;
  return secrets.map((secret) => `v1,${createHmac('sha256', webhookSecretBytes(secret)).update(signed).digest('base64')}`).join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookHeaders(content: SignedContent, secrets: readonly string[]): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': content.id,
    'webhook-timestamp': String(content.timestampSeconds),
    'webhook-signature': signWebhook(content, secrets),
  };
}
