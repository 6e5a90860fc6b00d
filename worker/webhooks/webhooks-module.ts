/**
 * The worker's `webhooks` module: relays webhook events from the documents that recorded them
 * into the outbox, fans them out to the endpoints that want them, and delivers them signed,
 * polling every WEBHOOK_POLL_INTERVAL_MS (docs/webhooks.md). Several workers may run it: every
 * step is idempotent or claimed with a lease.
 */
import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { MongoWebhookEndpointStore, type WebhookEndpointDocument } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { MongoWebhookRelay } from '../../lib/store/mongo-webhook-relay.js';
import type { RunningWorkerModule, WorkerContext, WorkerModule } from '../worker-module.js';
import { DEFAULT_WEBHOOK_CONFIG } from './webhook-config.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { createWebhookSender } from './webhook-sender.js';

/** Options for {@link createWebhooksModule}. */
export interface WebhooksModuleOptions {
  /** Told when an endpoint is disabled for failing, beside the log (the operator alert). Default: nothing more. */
  readonly onEndpointDisabled?: (endpoint: WebhookEndpointDocument, context: WorkerContext) => Promise<void>;
}

/** Builds the `webhooks` module. */
export function createWebhooksModule(options: WebhooksModuleOptions = {}): WorkerModule {
  return { name: 'webhooks', start: (context) => startWebhooks(context, options) };
}

/** The production `webhooks` module. */
export const webhooksModule: WorkerModule = createWebhooksModule();

async function startWebhooks(context: WorkerContext, options: WebhooksModuleOptions): Promise<RunningWorkerModule> {
  const config = context.config.webhooks ?? DEFAULT_WEBHOOK_CONFIG;
  const logger = context.logger.child({ module: 'webhooks' });
  const endpoints = new MongoWebhookEndpointStore({ db: context.db, cipher: createKeyCipher(context.config.secrets.encryption) });
  const outbox = new MongoWebhookOutbox({ db: context.db });
  const relay = new MongoWebhookRelay({ db: context.db, outbox });
  await outbox.ensureIndexes();
  await relay.ensureIndexes();
  const mail = new MongoEmailOutbox({ db: context.db });
  const sender = createWebhookSender({ policy: config.policy, timeoutMs: config.timeoutMs, maxResponseBytes: config.maxResponseBytes });
  const dispatcher = new WebhookDispatcher({
    endpoints,
    outbox,
    relay,
    send: sender.send,
    logger,
    retry: config.retry,
    // The lease outlives the attempt's deadline, so a live attempt is never taken over.
    leaseMs: config.timeoutMs * 2 + 10_000,
    concurrencyPerEndpoint: config.concurrencyPerEndpoint,
    disableAfterMs: config.disableAfterMs,
    onEndpointDisabled: async (endpoint) => {
      logger.error({ endpointId: endpoint._id, failingSince: endpoint.failingSince }, 'webhook endpoint disabled after failing; fix the receiver and enable it again');
      if (config.alertEmail !== null) {
        // Through the e-mail outbox, so a mail server that is down delays the alert, never loses it.
        // The host only: a URL may carry a token in its path or query.
        await mail.enqueue(
          {
            kind: 'webhook_endpoint_disabled',
            to: config.alertEmail,
            licenseId: '',
            customerId: null,
            dedupeKey: `webhook_endpoint_disabled:${endpoint._id}:${String(endpoint.disabledAt?.getTime() ?? 0)}`,
            data: { endpointId: endpoint._id, host: new URL(endpoint.url).host, description: endpoint.description, failingSince: endpoint.failingSince?.toISOString() ?? null },
          },
          new Date(),
        );
      }
      await options.onEndpointDisabled?.(endpoint, context);
    },
  });
  dispatcher.start(config.pollIntervalMs);
  return {
    async stop() {
      await dispatcher.stop();
      sender.close();
    },
  };
}
