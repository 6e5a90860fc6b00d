/** The Stripe webhook refuses what Stripe did not sign, and stores nothing for it. */
import { describe, expect, it } from 'vitest';

import { startBillingSystem } from '../../support/billing-fixture.js';
import { postWebhook, signatureHeader, stripeEvent } from '../../support/stripe-events.js';

const event = () => stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }, new Date());

describe('POST /v1/stripe/webhook: signatures', () => {
  it.each([
    ['a missing Stripe-Signature header', { signature: null }, 'MISSING_SIGNATURE'],
    ['a signature made with another secret', { secret: 'whsec_forged_by_someone_else' }, 'BAD_SIGNATURE'],
    ['a malformed header', { signature: 't=abc,v1=zz' }, 'BAD_SIGNATURE'],
    ['a timestamp outside the tolerance (replay)', { timestamp: Math.floor(Date.now() / 1000) - 3_600 }, 'STALE_TIMESTAMP'],
  ] as const)('answers 400 INVALID_SIGNATURE for %s and stores nothing', async (_name, options, reason) => {
    const billing = await startBillingSystem({ worker: false });
    const sent = event();
    const answer = await postWebhook(billing.server.url, sent, options);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'INVALID_SIGNATURE', details: { reason } } });
    expect(await billing.events.get(sent.id)).toBeNull();
  });

  it('refuses a body changed after signing', async () => {
    const billing = await startBillingSystem({ worker: false });
    const sent = event();
    const payload = JSON.stringify(sent);
    const signature = signatureHeader(payload);
    const tampered = payload.replace('customer.created', 'charge.refunded');
    const answer = await postWebhook(billing.server.url, tampered, { signature });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'INVALID_SIGNATURE', details: { reason: 'BAD_SIGNATURE' } } } });
    expect(await billing.events.list({ limit: 10 })).toEqual([]);
  });
});
