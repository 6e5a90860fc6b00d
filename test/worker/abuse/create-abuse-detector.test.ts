import { describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../../lib/abuse/abuse-signal.js';
import type { AbuseDetector } from '../../../lib/service/abuse-detector.js';
import { createAbuseDetector } from '../../../worker/abuse/create-abuse-detector.js';
import type { WorkerModule } from '../../../worker/worker-module.js';
import { streamEntries, validationEvent } from '../../support/abuse-events.js';
import { startTestWorker } from '../../support/worker-fixture.js';

describe('createAbuseDetector', () => {
  it('takes trials from the onTrialStarted hook and reports signals to the onSignal hook', async () => {
    let detector: AbuseDetector | undefined;
    const reported: AbuseSignal[] = [];
    const module: WorkerModule = {
      name: 'abuse',
      async start(context) {
        detector = await createAbuseDetector(context);
        context.hooks.onSignal = async (signal) => void reported.push(signal);
        return { stop: async () => undefined };
      },
    };
    const worker = await startTestWorker({}, [module]);
    try {
      const trial = { email: null, cardFingerprint: 'card_1', deviceFingerprint: null, ip: null, stripeSubscriptionId: null };
      await worker.context.hooks.onTrialStarted!({ ...trial, licenseId: 'lic_a', customerId: 'cus_a', startedAt: new Date('2026-03-01T00:00:00Z') });
      await worker.context.hooks.onTrialStarted!({ ...trial, licenseId: 'lic_b', customerId: 'cus_b', startedAt: new Date('2026-03-02T00:00:00Z') });
      expect(reported).toMatchObject([{ kind: 'trial_cycling', subject: { licenseId: 'lic_b' }, evidence: { linkedCustomers: [{ customerId: 'cus_a', sharedBy: ['card'] }] } }]);

      const at = Date.parse('2026-03-02T10:00:00Z');
      await detector!.process(0, streamEntries(Array.from({ length: 30 }, (_, i) => validationEvent(null, at + i, { ip: '91.200.12.7' }))));
      expect(reported.map((signal) => signal.kind)).toEqual(['trial_cycling', 'key_guessing']);
      // The checkpoint, the network's slot and its network group's slot.
      expect(await worker.context.redis.keys(`${worker.config.queuePrefix}:abuse:{0}:*`)).toHaveLength(3);
    } finally {
      const keys = await worker.context.redis.keys(`${worker.config.queuePrefix}:abuse:*`);
      if (keys.length > 0) await worker.context.redis.del(...keys);
      await worker.stop();
    }
  });
});
