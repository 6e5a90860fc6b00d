/**
 * Specification: a worker killed (SIGKILL) in the middle of its deliveries loses none of them.
 * Its claims hold until their lease runs out; then another worker delivers them again, and the
 * receiver, deduplicating by webhook-id, has each event exactly once.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';

import { mongoUrl } from '../setup/services.js';
import { startWebhookFixture, type WebhookFixture } from '../support/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

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

describe('a worker killed mid-delivery', () => {
  it('loses nothing: its claimed deliveries are taken over after the lease and arrive once each after dedup', async () => {
    const { endpoint, secret } = await fx.endpoints.create({ url: receiver.url }, fx.now());
    receiver.setSecrets([secret]);
    receiver.setMode('hang');
    const issued = await fx.kw.keyward.licenses.issueMany(6, { planId: 'pro' });
    expect(issued.ok).toBe(true);

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/webhooks/delivering-worker.ts'], {
      env: { ...process.env, MONGODB_URL: mongoUrl(), MONGODB_DB: fx.kw.db.databaseName },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    await once(createInterface({ input: child.stdout }), 'line');
    // Four in flight (the default per endpoint), all hanging at the receiver: kill the worker now.
    await receiver.waitForHanging(4);
    child.kill('SIGKILL');
    await once(child, 'exit');
    receiver.setMode('ok');

    const survivor = fx.dispatcher();
    // Within the lease the survivor delivers only what the dead worker had not claimed.
    await survivor.drain();
    expect(receiver.unique().size).toBe(6);
    const claimed = (await fx.outbox.list({ endpointId: endpoint._id, limit: 10 })).data.filter((delivery) => delivery.status === 'pending');
    expect(claimed).toHaveLength(4);
    expect(claimed.every((delivery) => delivery.leaseId !== null && delivery.attempts === 1)).toBe(true);

    // Past the lease the claims are due again and are delivered a second time: at-least-once.
    fx.advance(60_001);
    await survivor.drain();
    const { data } = await fx.outbox.list({ endpointId: endpoint._id, limit: 10 });
    expect(data.map((delivery) => delivery.status)).toEqual(data.map(() => 'succeeded'));
    expect(receiver.unique().size).toBe(6);
    expect(receiver.deliveries).toHaveLength(10);
  });
});
