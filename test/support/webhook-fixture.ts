/**
 * Webhooks wired for a test: a Keyward on a fresh database, the endpoint store, outbox, relay,
 * a real HTTP sender (loopback allowed, since the receivers tests start are on loopback) and a
 * dispatcher whose scheduling clock the test moves (so days of retries take no time), while
 * the signature timestamps stay on the wall clock that receivers check.
 */
import { pino } from 'pino';

import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { MongoWebhookRelay } from '../../lib/store/mongo-webhook-relay.js';
import type { AddressPolicy } from '../../lib/webhooks/address-policy.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../worker/webhooks/webhook-dispatcher.js';
import { createWebhookSender, type WebhookSender, type WebhookSenderOptions } from '../../worker/webhooks/webhook-sender.js';
import { startKeyward, TEST_SECRETS, type KeywardFixture } from './keyward-fixture.js';

/** A running webhook fixture. */
export interface WebhookFixture {
  readonly kw: KeywardFixture;
  readonly endpoints: MongoWebhookEndpointStore;
  readonly outbox: MongoWebhookOutbox;
  readonly relay: MongoWebhookRelay;
  readonly sender: WebhookSender;
  /** Builds another dispatcher on the same database (a second worker). */
  dispatcher(overrides?: Partial<WebhookDispatcherOptions>): WebhookDispatcher;
  /** The scheduling clock now. */
  now(): Date;
  /** Moves the scheduling clock. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** Starts the fixture. */
export async function startWebhookFixture(options: { policy?: AddressPolicy; sender?: Partial<WebhookSenderOptions> } = {}): Promise<WebhookFixture> {
  const kw = await startKeyward();
  const endpoints = new MongoWebhookEndpointStore({ db: kw.db, cipher: createKeyCipher(TEST_SECRETS.encryption) });
  const outbox = new MongoWebhookOutbox({ db: kw.db });
  const relay = new MongoWebhookRelay({ db: kw.db, outbox });
  await outbox.ensureIndexes();
  await relay.ensureIndexes();
  const sender = createWebhookSender({ policy: options.policy ?? { allowLoopback: true, allowPrivate: false }, timeoutMs: 30_000, ...options.sender });
  let offsetMs = 0;
  const clock = (): Date => new Date(Date.now() + offsetMs);
  const dispatchers: WebhookDispatcher[] = [];
  const logger = pino({ level: 'silent' });
  return {
    kw,
    endpoints,
    outbox,
    relay,
    sender,
    dispatcher(overrides = {}) {
      const dispatcher = new WebhookDispatcher({ endpoints, outbox, relay, send: sender.send, logger, clock, timestampClock: () => new Date(), leaseMs: 60_000, ...overrides });
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    now: clock,
    advance(ms) {
      offsetMs += ms;
    },
    async close() {
      for (const dispatcher of dispatchers) await dispatcher.stop();
      sender.close();
      await kw.close();
    },
  };
}
