/** Billing's settings from the environment: defaults, the stripe-mock base URL, and named errors. */
import { describe, expect, it } from 'vitest';

import { generateTokenKeyPair } from '../../../lib/tokens/validation-token.js';
import { parseServerConfig } from '../../../server/config.js';
import { parseWorkerConfig } from '../../../worker/config.js';

const SECRETS = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: 'digest-secret-for-the-billing-config-tests-0123456789',
  KEYWARD_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
};

describe('worker billing settings', () => {
  it('default to payloads only (no Stripe API) and documented periods', () => {
    expect(parseWorkerConfig(SECRETS).billing).toMatchObject({
      stripeApi: null,
      paymentGraceMs: 259_200_000,
      renewalGraceMs: 259_200_000,
      trialNoticeMs: 259_200_000,
      eventRetentionMs: 90 * 86_400_000,
      sentEmailRetentionMs: 30 * 86_400_000,
      jobAttempts: 8,
      concurrency: 8,
    });
  });

  it('point the Stripe client at stripe-mock from STRIPE_API_BASE_URL', () => {
    const config = parseWorkerConfig({ ...SECRETS, STRIPE_API_KEY: 'sk_test_123', STRIPE_API_BASE_URL: 'http://localhost:12111', BILLING_PAYMENT_GRACE_SECONDS: '60', BILLING_RENEWAL_GRACE_SECONDS: '0' });
    expect(config.billing).toMatchObject({ stripeApi: { apiKey: 'sk_test_123', host: 'localhost', port: 12111, protocol: 'http' }, paymentGraceMs: 60_000, renewalGraceMs: 0 });
  });

  it('name a bad variable without echoing its value', () => {
    expect(() => parseWorkerConfig({ ...SECRETS, STRIPE_API_KEY: 'pk_live_secretvalue' })).toThrow(/STRIPE_API_KEY: must be a Stripe secret or restricted key/);
    expect(() => parseWorkerConfig({ ...SECRETS, STRIPE_API_KEY: 'pk_live_secretvalue' })).not.toThrow(/secretvalue/);
    expect(() => parseWorkerConfig({ ...SECRETS, BILLING_JOB_ATTEMPTS: '0' })).toThrow(/BILLING_JOB_ATTEMPTS/);
    expect(() => parseWorkerConfig({ ...SECRETS, BILLING_RENEWAL_GRACE_SECONDS: '-1' })).toThrow(/BILLING_RENEWAL_GRACE_SECONDS/);
  });
});

describe('server webhook settings', () => {
  const server = { ...SECRETS, KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey };

  it('leave the webhook unconfigured without a secret', () => {
    expect(parseServerConfig(server, process.cwd())).toMatchObject({ queuePrefix: 'keyward', stripe: { webhookSecret: null, toleranceSeconds: 300, bodyLimitBytes: 262_144 } });
  });

  it('take a whsec_ secret and refuse anything else by name', () => {
    expect(parseServerConfig({ ...server, STRIPE_WEBHOOK_SECRET: 'whsec_abc123' }, process.cwd()).stripe?.webhookSecret).toBe('whsec_abc123');
    expect(() => parseServerConfig({ ...server, STRIPE_WEBHOOK_SECRET: 'sk_live_wrongthing' }, process.cwd())).toThrow(/STRIPE_WEBHOOK_SECRET: must be a webhook signing secret/);
  });
});
