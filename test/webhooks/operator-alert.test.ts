/**
 * Specification: when the worker disables an endpoint that keeps failing, the operator is told
 * by e-mail through the e-mail outbox (WEBHOOK_ALERT_EMAIL), once, and the endpoint shows up
 * among the disabled ones with why.
 */
import { describe, expect, it } from 'vitest';

import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { escapeHtml } from '../../lib/mail/escape-html.js';
import { renderEmail } from '../../lib/mail/render-email.js';
import { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { DEFAULT_MAIL_CONFIG } from '../../worker/mail/mail-config.js';
import { mailModule } from '../../worker/mail/mail-module.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../../worker/webhooks/webhook-config.js';
import { webhooksModule } from '../../worker/webhooks/webhooks-module.js';
import { TEST_SECRETS } from '../support/keyward-fixture.js';
import { startSmtpServer } from '../support/smtp-test-server.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startTestWorker } from '../support/worker-fixture.js';

describe('an endpoint disabled for failing', () => {
  it('is listed as disabled (failing) and the operator gets one e-mail naming it, without its URL path', async () => {
    const smtp = await startSmtpServer();
    const receiver = await startWebhookReceiver();
    try {
      receiver.setMode('fail');
      const worker = await startTestWorker(
        {
          mail: { ...DEFAULT_MAIL_CONFIG, smtpUrl: smtp.url, sweepIntervalMs: 100 },
          // One attempt, and no grace: the first failure disables the endpoint.
          webhooks: { ...DEFAULT_WEBHOOK_CONFIG, policy: { allowLoopback: true, allowPrivate: false }, pollIntervalMs: 50, retry: { ...DEFAULT_WEBHOOK_CONFIG.retry, maxAttempts: 1 }, disableAfterMs: 0, alertEmail: 'ops@example.com' },
        },
        [mailModule, webhooksModule],
      );
      const endpoints = new MongoWebhookEndpointStore({ db: worker.context.db, cipher: createKeyCipher(TEST_SECRETS.encryption) });
      const { endpoint, secret } = await endpoints.create({ url: `${receiver.url}?token=s3cret-path-token`, description: 'CRM sync' }, new Date());
      receiver.setSecrets([secret]);
      const issued = await worker.context.keyward.licenses.issue({ planId: 'pro' });
      expect(issued.ok).toBe(true);

      const [alert] = await smtp.waitFor(1);
      expect(alert?.envelopeTo).toEqual(['ops@example.com']);
      expect(alert?.subject).toBe(`Keyward disabled webhook endpoint ${endpoint._id}`);
      expect(alert?.text).toContain('CRM sync');
      expect(alert?.text).toContain(new URL(receiver.url).host);
      expect(alert?.text).not.toContain('s3cret-path-token');
      const disabled = await endpoints.list({ enabled: false });
      expect(disabled.map((found) => [found._id, found.disabledReason])).toEqual([[endpoint._id, 'failing']]);
    } finally {
      await receiver.close();
    }
  });
});

describe('the alert e-mail', () => {
  it('says what to do, and escapes what the operator typed', () => {
    const hostile = `<script>alert("x")</script>&'`;
    const email = renderEmail({ kind: 'webhook_endpoint_disabled', data: { endpointId: 'whe_1', host: 'hooks.example.com', description: hostile, failingSince: '2026-11-01T10:00:00Z' } });
    expect(email.subject).toBe('Keyward disabled webhook endpoint whe_1');
    expect(email.text).toContain('(hooks.example.com) kept failing since 2026-11-01');
    expect(email.text).toContain('keyward webhooks update <id> --enable');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain(escapeHtml(hostile));
  });
});
