/**
 * The trial-watch worker module on its own timer: trials recorded by another process (here the
 * worker's own license service, as the CLI would) are judged without anyone asking, the
 * signals reach the cases module, and the module stops cleanly.
 */
import { describe, expect, it } from 'vitest';

import { MongoCaseStore } from '../../../lib/store/mongo-case-store.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { createTrialWatchModule } from '../../../worker/trials/trial-watch-module.js';
import { startTestWorker } from '../../support/worker-fixture.js';

const WAIT_LIMIT_MS = 60_000;

describe('trial-watch module', () => {
  it('judges pending trials on its timer and opens a case for the cycling one', { timeout: 120_000 }, async () => {
    const trialWatch = createTrialWatchModule({ intervalMs: 50 });
    const worker = await startTestWorker({}, [casesModule, trialWatch]);
    const { keyward } = worker.context;
    const first = await keyward.licenses.issue({ planId: 'pro', trial: true, email: 'jane.doe@gmail.com' });
    const second = await keyward.licenses.issue({ planId: 'pro', trial: true, email: 'janedoe+again@googlemail.com' });
    if (!first.ok || !second.ok) throw new Error('not issued');
    const secondId = second.value.record.license.id;

    const cases = new MongoCaseStore({ db: worker.context.db });
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while ((await cases.list({ limit: 10 })).length === 0 || (await keyward.trialRegistrations.findPending(10)).length > 0) {
      if (Date.now() > deadline) throw new Error(`no case within ${WAIT_LIMIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await cases.list({ limit: 10 })).map((entry) => entry.subject)).toEqual([{ type: 'license', licenseId: secondId }]);

    await worker.stop();
    expect(trialWatch.running()).toBeUndefined();
  });

  it('refuses a bad interval or batch size when built', () => {
    expect(() => createTrialWatchModule({ intervalMs: 0 })).toThrow('intervalMs must be a positive integer, got 0');
    expect(() => createTrialWatchModule({ batchSize: 1.5 })).toThrow('batchSize must be a positive integer, got 1.5');
  });
});
