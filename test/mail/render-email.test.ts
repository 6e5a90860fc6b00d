/** E-mail templates: each kind says what it must, in text and HTML alike, and nothing from outside can inject markup. */
import { describe, expect, it } from 'vitest';

import type { EmailInput, EmailLicenseFacts } from '../../lib/mail/email-content.js';
import { LICENSE_EMAIL_KINDS, type EmailKind } from '../../lib/mail/email-request.js';
import { escapeHtml } from '../../lib/mail/escape-html.js';
import { isSafeLinkUrl, renderEmail } from '../../lib/mail/render-email.js';

const KEY = 'TO-A3F2-B891-C4D7-E05Q';
const LICENSE: EmailLicenseFacts = {
  id: 'lic_01jd000000000000000000000',
  product: 'default',
  planId: 'pro',
  planName: 'Pro',
  keyMask: 'TO-****-****-****-E05Q',
  status: 'active',
  periodEndsAt: new Date('2027-03-01T00:00:00Z'),
  trialEndsAt: null,
  suspensionReason: null,
  revocationReason: null,
};

function input(kind: EmailKind, license: Partial<EmailLicenseFacts> = {}, data: EmailInput['data'] = {}): EmailInput {
  const facts = { ...LICENSE, ...license };
  return kind === 'key_delivery' ? { kind, license: facts, data, key: KEY } : { kind, license: facts, data };
}

/** Text content of the HTML body, tags dropped and entities decoded, to compare with the plain text. */
function visibleText(html: string): string {
  return html
    .replace(/<title>.*<\/title>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('renderEmail', () => {
  const cases: Array<[EmailKind, Partial<EmailLicenseFacts>, EmailInput['data'], RegExp, string[]]> = [
    ['key_delivery', {}, { productName: 'TextOwl' }, /^Your TextOwl license key$/, [KEY, 'Pro', '2027-03-01']],
    ['key_delivery', { trialEndsAt: new Date('2026-03-15T00:00:00Z'), periodEndsAt: new Date('2026-03-15T00:00:00Z') }, {}, /^Your default license key$/, [KEY, 'trial license: it ends on 2026-03-15']],
    ['key_delivery', { periodEndsAt: null }, {}, /license key/, [KEY, 'no end date']],
    ['trial_ending', { trialEndsAt: new Date('2026-03-15T12:00:00Z') }, {}, /^Your default trial ends on 2026-03-15$/, ['Subscribe before then', 'TO-****-****-****-E05Q']],
    ['trial_ending', {}, { trialEndsAt: '2026-04-01T00:00:00Z' }, /ends on 2026-04-01$/, ['ends on 2026-04-01']],
    ['trial_ending', {}, {}, /ends soon$/, ['ends soon']],
    ['payment_failed', {}, { graceEndsAt: '2026-03-08T00:00:00Z' }, /^Payment failed for your default license$/, ['by 2026-03-08', 'Pro']],
    ['payment_failed', {}, {}, /Payment failed/, ['Please update your payment method to keep']],
    ['license_suspended', { status: 'suspended', suspensionReason: 'payment_failed' }, {}, /is suspended$/, ['because a payment failed', 'does not validate']],
    ['license_suspended', { status: 'suspended', suspensionReason: 'abuse_hold' }, { reason: 'of a chargeback review' }, /is suspended$/, ['because of a chargeback review']],
    ['license_revoked', { status: 'revoked', revocationReason: 'refund' }, {}, /is revoked$/, ['because the purchase was refunded', 'no longer validates']],
  ];

  it.each(cases)('renders %s with its subject and facts in both bodies', (kind, license, data, subject, phrases) => {
    const email = renderEmail(input(kind, license, data));
    expect(email.subject).toMatch(subject);
    for (const phrase of phrases) {
      expect(email.text).toContain(phrase);
      expect(visibleText(email.html)).toContain(phrase);
    }
    expect(email.html).toMatch(/^<!doctype html>/);
  });

  it('shows the plain key only in a key delivery; every other kind shows the masked key', () => {
    for (const kind of LICENSE_EMAIL_KINDS) {
      const email = renderEmail(input(kind));
      const shown = `${email.subject}\n${email.text}\n${email.html}`;
      expect(shown.includes(KEY), kind).toBe(kind === 'key_delivery');
      if (kind !== 'key_delivery') expect(shown, kind).toContain('TO-****-****-****-E05Q');
    }
  });

  it('escapes every value in the HTML and keeps the subject on one line', () => {
    const hostile = `<script>alert("x")</script>&'`;
    for (const kind of LICENSE_EMAIL_KINDS) {
      const email = renderEmail(input(kind, { planName: hostile, product: hostile }, { productName: `Evil\r\nBcc: all@example.com ${hostile}`, reason: hostile }));
      expect(email.html, kind).not.toContain('<script>');
      expect(email.html, kind).toContain(escapeHtml(hostile));
      expect(email.subject, kind).not.toMatch(/[\r\n]/);
      expect(email.text, kind).toContain(hostile);
    }
  });

  it('links only to http(s) URLs, escaped in the attribute', () => {
    const safe = renderEmail(input('payment_failed', {}, { manageUrl: 'https://billing.example.com/portal?a=1&b="2"' }));
    expect(safe.html).toContain('href="https://billing.example.com/portal?a=1&amp;b=&quot;2&quot;"');
    expect(safe.text).toContain('Update your payment method: https://billing.example.com/portal?a=1&b="2"');
    for (const url of ['javascript:alert(1)', 'data:text/html,hi', 'not a url', '//example.com']) {
      const email = renderEmail(input('payment_failed', {}, { manageUrl: url }));
      expect(email.html, url).not.toContain('href=');
      expect(email.text, url).not.toContain(url);
    }
  });
});

describe('isSafeLinkUrl', () => {
  it.each([
    ['https://example.com/x', true],
    ['http://localhost:8080', true],
    ['javascript:alert(1)', false],
    ['mailto:a@example.com', false],
    ['', false],
  ])('%s → %s', (url, safe) => {
    expect(isSafeLinkUrl(url)).toBe(safe);
  });
});
