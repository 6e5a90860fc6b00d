/**
 * A worker process for the crash test: runs the webhook dispatcher on MONGODB_URL/MONGODB_DB
 * until it is killed. The test kills it (SIGKILL) while its deliveries hang at the receiver.
 */
import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { MongoWebhookRelay } from '../../lib/store/mongo-webhook-relay.js';
import { WebhookDispatcher } from '../../worker/webhooks/webhook-dispatcher.js';
import { createWebhookSender } from '../../worker/webhooks/webhook-sender.js';
import { TEST_SECRETS } from '../support/keyward-fixture.js';

const client = await new MongoClient(process.env['MONGODB_URL'] ?? '').connect();
const db = client.db(process.env['MONGODB_DB'] ?? '');
const outbox = new MongoWebhookOutbox({ db });
const dispatcher = new WebhookDispatcher({
  endpoints: new MongoWebhookEndpointStore({ db, cipher: createKeyCipher(TEST_SECRETS.encryption) }),
  outbox,
  relay: new MongoWebhookRelay({ db, outbox }),
  send: createWebhookSender({ policy: { allowLoopback: true, allowPrivate: false } }).send,
  logger: pino({ level: 'silent' }),
  leaseMs: 60_000,
});
dispatcher.start(20);
process.stdout.write('started\n');
