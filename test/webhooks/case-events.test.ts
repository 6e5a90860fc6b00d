/**
 * Specification of case events: a case opened by its first signal, escalated when its score
 * crosses 50 and again 80, decided by a reviewer, each recorded in the case's own write and
 * delivered once; a replace of the case never drops an event not yet relayed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AbuseCase } from '../../lib/abuse/abuse-case.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { caseWebhookEvents } from '../../lib/webhooks/case-events.js';
import { buildSignal } from '../support/abuse-signals.js';
import { startWebhookFixture, type WebhookFixture } from '../support/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const base: AbuseCase = {
  id: 'case_lic_1',
  subject: { type: 'license', licenseId: 'lic_1' },
  status: 'open',
  score: 30,
  timeline: [],
  decision: null,
  decisions: [],
  reopenCount: 0,
  openedAt: new Date('2026-11-01T10:00:00Z'),
  lastSignalAt: new Date('2026-11-01T10:00:00Z'),
  updatedAt: new Date('2026-11-01T10:00:00Z'),
  version: 1,
};
const decision = { action: 'dismiss' as const, reviewer: 'admin:tok_1', reason: 'a CI farm', at: new Date('2026-11-02T10:00:00Z') };

describe('caseWebhookEvents', () => {
  it.each([
    ['a new case', null, base, ['case.opened']],
    ['a new case scoring 85', null, { ...base, score: 85 }, ['case.opened', 'case.escalated']],
    ['30 → 49', base, { ...base, score: 49, version: 2 }, []],
    ['30 → 50', base, { ...base, score: 50, version: 2 }, ['case.escalated']],
    ['60 → 90', { ...base, score: 60 }, { ...base, score: 90, version: 2 }, ['case.escalated']],
    ['90 → 95', { ...base, score: 90 }, { ...base, score: 95, version: 2 }, []],
    ['dismissed', base, { ...base, status: 'dismissed', decision, decisions: [decision], version: 2 }, ['case.decided']],
    ['reopened after a dismissal', { ...base, status: 'dismissed', decisions: [decision] }, { ...base, decisions: [decision], reopenCount: 1, version: 3 }, ['case.opened']],
  ] as const)('%s', (_name, before, after, expected) => {
    expect(caseWebhookEvents(before, after).map((event) => event.type)).toEqual(expected);
  });
});

describe('case events end to end', () => {
  let fx: WebhookFixture;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    fx = await startWebhookFixture();
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await receiver.close();
    await fx.close();
  });

  it('delivers opened, escalated and decided, each once, with the case summary', async () => {
    const { secret } = await fx.endpoints.create({ url: receiver.url, eventTypes: ['case.opened', 'case.escalated', 'case.decided'] }, fx.now());
    receiver.setSecrets([secret]);
    const cases = new MongoCaseStore({ db: fx.kw.db });
    await cases.ensureIndexes();
    const now = new Date('2026-11-01T12:00:00Z');
    await cases.recordSignal(buildSignal({ licenseId: 'lic_x', severity: 40 }), now);
    // A second signal before the relay runs: the replace keeps the first write's event.
    await cases.recordSignal(buildSignal({ licenseId: 'lic_x', kind: 'geo_spread', severity: 45 }), now);
    const stored = await fx.kw.db.collection('abuse_cases').findOne({ _id: 'case_lic_x' as never });
    expect((stored?.['pendingWebhookEvents'] as Array<{ type: string }>).map((event) => event.type)).toEqual(['case.opened', 'case.escalated']);
    await cases.decide('case_lic_x', { action: 'dismiss', reviewer: 'admin:tok_1', reason: 'a CI farm', at: now });

    const dispatcher = fx.dispatcher();
    await dispatcher.drain();
    // Ordering is not promised: look events up by type.
    const received = new Map([...receiver.unique().values()].map((event) => [event.type, event]));
    expect([...received.keys()].sort()).toEqual(['case.decided', 'case.escalated', 'case.opened']);
    expect(receiver.deliveries).toHaveLength(3);
    expect(received.get('case.escalated')?.data).toMatchObject({ case: { id: 'case_lic_x', score: 85, status: 'open' }, crossedScore: 80 });
    expect(received.get('case.decided')?.data).toMatchObject({ case: { status: 'dismissed', decision: { action: 'dismiss', reason: 'a CI farm' } } });
    // The admin API's view of the case never shows the pending events.
    expect(Object.keys((await cases.get('case_lic_x')) ?? {})).not.toContain('pendingWebhookEvents');
  });
});
