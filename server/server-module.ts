/**
 * What a server capability with its own clients plugs into (the Stripe webhook and its queue
 * producer): started by the composition root after the services are built, it may answer some
 * requests straight from node:http before Koa (the webhook needs the raw, signed body, which the
 * JSON body reader would consume), add Koa routes, and is stopped before the clients close.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Router } from '@koa/router';
import type { MongoClient, Db } from 'mongodb';
import type { Logger } from 'pino';

import type { Keyward } from '../lib/service/create-keyward.js';
import type { ServerConfig } from './config.js';
import type { OpenApiOperation } from './openapi.js';

/** What a module may use. */
export interface ServerModuleContext {
  readonly config: ServerConfig;
  readonly keyward: Keyward;
  readonly db: Db;
  readonly mongo: MongoClient;
  readonly logger: Logger;
}

/** A started module. */
export interface RunningServerModule {
  /** Answers the request and returns true, or returns false to leave it to the next handler. */
  handleRaw?(request: IncomingMessage, response: ServerResponse): boolean;
  /** Adds Koa routes (e.g. admin routes). */
  addRoutes?(router: Router): void;
  /** Closes what the module opened. */
  stop(): Promise<void>;
}

/** A server capability. */
export interface ServerModule {
  /** Short name for logs. */
  readonly name: string;
  /** The routes it serves, for the OpenAPI document. */
  readonly operations?: readonly OpenApiOperation[];
  start(context: ServerModuleContext): Promise<RunningServerModule>;
}
