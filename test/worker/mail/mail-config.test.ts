/** The mail sender's environment variables: defaults, conversions, and errors that name the variable without echoing it. */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { DEFAULT_MAIL_CONFIG } from '../../../worker/mail/mail-config.js';
import { parseWorkerConfig } from '../../../worker/config.js';

const BASE = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URL: 'mongodb://127.0.0.1:27017',
  KEYWARD_DIGEST_SECRET: randomBytes(32).toString('hex'),
  KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};

describe('parseWorkerConfig: mail', () => {
  it('defaults to no SMTP server, so mail stays queued', () => {
    expect(parseWorkerConfig(BASE).mail).toEqual(DEFAULT_MAIL_CONFIG);
  });

  it('reads the SMTP URL, sender, attempts, backoff, sweep and concurrency', () => {
    const config = parseWorkerConfig({
      ...BASE,
      SMTP_URL: 'smtp://user:pass@mail.example.com:587',
      MAIL_FROM: 'TextOwl <licenses@textowl.example>',
      MAIL_MAX_ATTEMPTS: '3',
      MAIL_RETRY_BASE_SECONDS: '10',
      MAIL_RETRY_MAX_SECONDS: '600',
      MAIL_SWEEP_INTERVAL_SECONDS: '2',
      MAIL_CONCURRENCY: '8',
      MAIL_RETENTION_DAYS: '30',
    });
    expect(config.mail).toEqual({
      ...DEFAULT_MAIL_CONFIG,
      smtpUrl: 'smtp://user:pass@mail.example.com:587',
      from: 'TextOwl <licenses@textowl.example>',
      retry: { maxAttempts: 3, baseDelayMs: 10_000, maxDelayMs: 600_000 },
      sweepIntervalMs: 2_000,
      concurrency: 8,
      retentionMs: 30 * 86_400_000,
    });
  });

  it.each([
    ['SMTP_URL', 'http://user:secret-password@mail.example.com'],
    ['SMTP_URL', 'not a url secret-password'],
    ['MAIL_FROM', 'no address here'],
    ['MAIL_FROM', 'a@example.com\r\nBcc: secret-password@example.com'],
    ['MAIL_MAX_ATTEMPTS', '0'],
    ['MAIL_CONCURRENCY', 'many'],
  ])('refuses a bad %s, naming it without echoing the value', (name, value) => {
    // Only the bad variable is named: the rest of the environment is valid.
    expect(() => parseWorkerConfig({ ...BASE, [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${name}: [^\\n]+$`));
    expect(() => parseWorkerConfig({ ...BASE, [name]: value })).not.toThrow(/secret-password/);
  });
});
