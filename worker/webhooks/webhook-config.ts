/** The worker's webhook settings: the variables, their defaults, and the parsed form. */
import { z } from 'zod';

import { unsetIfEmpty } from '../../lib/config/environment.js';
import { STRICT_ADDRESS_POLICY, type AddressPolicy } from '../../lib/webhooks/address-policy.js';
import { DEFAULT_WEBHOOK_RETRY, type WebhookRetryPolicy } from '../../lib/webhooks/delivery-backoff.js';
import { addressPolicyOf, webhookAddressVariables } from '../../lib/webhooks/webhook-environment.js';

/** The `webhooks` module's settings. */
export interface WebhookConfig {
  /** Where deliveries may go. Default: public addresses over HTTPS. */
  readonly policy: AddressPolicy;
  /** Deadline of one attempt, ms. Default 15,000. */
  readonly timeoutMs: number;
  /** Most bytes of an answer read. Default 65,536. */
  readonly maxResponseBytes: number;
  readonly retry: WebhookRetryPolicy;
  /** Deliveries in flight per endpoint. Default 4. */
  readonly concurrencyPerEndpoint: number;
  /** How often the outbox is polled, ms. Default 1,000. */
  readonly pollIntervalMs: number;
  /** An endpoint with no success for this long when a delivery gives up is disabled, ms. Default 3 days. */
  readonly disableAfterMs: number;
  /** Who is e-mailed when an endpoint is disabled; null: only the log and the listing say so. */
  readonly alertEmail: string | null;
}

/** The defaults. */
export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  policy: STRICT_ADDRESS_POLICY,
  timeoutMs: 15_000,
  maxResponseBytes: 65_536,
  retry: DEFAULT_WEBHOOK_RETRY,
  concurrencyPerEndpoint: 4,
  pollIntervalMs: 1_000,
  disableAfterMs: 259_200_000,
  alertEmail: null,
};

const int = (fallback: number, min: number, max: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).default(fallback));

/** The worker's webhook variables. */
export const webhookEnvironment = {
  ...webhookAddressVariables,
  WEBHOOK_TIMEOUT_SECONDS: int(15, 1, 120),
  WEBHOOK_MAX_RESPONSE_BYTES: int(65_536, 0, 10_485_760),
  WEBHOOK_MAX_ATTEMPTS: int(DEFAULT_WEBHOOK_RETRY.maxAttempts, 1, 100),
  WEBHOOK_CONCURRENCY_PER_ENDPOINT: int(4, 1, 64),
  WEBHOOK_POLL_INTERVAL_MS: int(1_000, 50, 60_000),
  WEBHOOK_DISABLE_AFTER_HOURS: int(72, 1, 8_760),
  WEBHOOK_ALERT_EMAIL: z.preprocess(unsetIfEmpty, z.email('must be an e-mail address, e.g. ops@example.com').optional()),
};

type Parsed = z.output<z.ZodObject<typeof webhookEnvironment>>;

/** The config from parsed variables. */
export function webhookConfigOf(parsed: Parsed): WebhookConfig {
  return {
    policy: addressPolicyOf(parsed),
    timeoutMs: parsed.WEBHOOK_TIMEOUT_SECONDS * 1000,
    maxResponseBytes: parsed.WEBHOOK_MAX_RESPONSE_BYTES,
    retry: { ...DEFAULT_WEBHOOK_RETRY, maxAttempts: parsed.WEBHOOK_MAX_ATTEMPTS },
    concurrencyPerEndpoint: parsed.WEBHOOK_CONCURRENCY_PER_ENDPOINT,
    pollIntervalMs: parsed.WEBHOOK_POLL_INTERVAL_MS,
    disableAfterMs: parsed.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    alertEmail: parsed.WEBHOOK_ALERT_EMAIL ?? null,
  };
}
