/** How the server wires the webhook routes: the endpoint store (secrets sealed with KEYWARD_ENCRYPTION_KEY) and the outbox on the server's database. */
import type { Router } from '@koa/router';
import type { Db } from 'mongodb';

import { createKeyCipher } from '../../lib/keys/key-cipher.js';
import { MongoWebhookEndpointStore } from '../../lib/store/mongo-webhook-endpoint-store.js';
import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { STRICT_ADDRESS_POLICY } from '../../lib/webhooks/address-policy.js';
import type { AdminAuth } from '../auth/admin-auth.js';
import type { ServerConfig } from '../config.js';
import { addAdminWebhookRoutes } from './admin-webhook-routes.js';

/** Adds the webhook routes, wired to MongoDB. */
export function wireAdminWebhookRoutes(router: Router, wiring: { readonly db: Db; readonly config: ServerConfig; readonly auth: AdminAuth }): void {
  addAdminWebhookRoutes(router, {
    endpoints: new MongoWebhookEndpointStore({ db: wiring.db, cipher: createKeyCipher(wiring.config.secrets.encryption) }),
    outbox: new MongoWebhookOutbox({ db: wiring.db }),
    policy: wiring.config.webhookPolicy ?? STRICT_ADDRESS_POLICY,
    auth: wiring.auth,
  });
}
