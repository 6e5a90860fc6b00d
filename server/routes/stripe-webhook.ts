/**
 * POST /v1/stripe/webhook, answered from node:http before Koa: the signature covers the raw
 * body, which Koa's JSON reader would consume. Verifies the signature (Stripe's library, with
 * the configured timestamp tolerance), stores the event once by its id, queues its job, and
 * answers 200 at once. An event stored while Redis is away is still acknowledged: the worker's
 * sweep queues it later. Nothing is stored for a body that fails verification.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from 'pino';
import Stripe from 'stripe';

import type { NewStripeEvent } from '../../lib/store/mongo-stripe-event-store.js';
import type { StripeWebhookConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import { errorAnswer } from '../http/error-answer.js';

/** The webhook's path. */
export const STRIPE_WEBHOOK_PATH = '/v1/stripe/webhook';

/** Options for {@link createStripeWebhookHandler}. */
export interface StripeWebhookOptions {
  readonly config: StripeWebhookConfig;
  /** Stores the event durably (once by its id; `created: false` for a repeated delivery). Resolves only once stored. */
  readonly store: (event: NewStripeEvent, now: Date) => Promise<{ created: boolean }>;
  /** Queues the event's job; may fail (Redis down): the event is stored and swept later. */
  readonly enqueue: (eventId: string) => Promise<void>;
  readonly logger: Logger;
  /** Request ids (http/request-id.ts). */
  readonly requestIds: (given: string | undefined) => string;
  /** Longest wait for the queue before answering anyway, ms. Default 1,000. */
  readonly enqueueTimeoutMs?: number;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

const isEventEnvelope = (value: unknown): value is { id: string; type: string; created: number; livemode?: boolean } => {
  if (typeof value !== 'object' || value === null) return false;
  const { id, type, created } = value as Record<string, unknown>;
  return typeof id === 'string' && /^evt_[A-Za-z0-9_]{1,250}$/.test(id) && typeof type === 'string' && type.length <= 128 && typeof created === 'number';
};

/** Reads the body up to `limit` bytes; `null` when it is larger (the connection is then closed). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        request.pause();
        request.removeAllListeners('data');
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue did not answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The webhook as a raw handler: answers its path and returns true, leaves anything else (false). */
export function createStripeWebhookHandler(options: StripeWebhookOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { config, store, enqueue, logger, requestIds } = options;
  const clock = options.clock ?? (() => new Date());
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 1_000;

  const handle = async (request: IncomingMessage, requestId: string): Promise<{ status: number; body: unknown; close?: boolean }> => {
    if (config.webhookSecret === null) {
      throw new ApiError('STRIPE_NOT_CONFIGURED', 'Stripe is not configured on this server (set STRIPE_WEBHOOK_SECRET).');
    }
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    const raw = declared > config.bodyLimitBytes ? null : await readBody(request, config.bodyLimitBytes);
    if (raw === null) throw Object.assign(new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { limitBytes: config.bodyLimitBytes }), { close: true });
    const signature = request.headers['stripe-signature'];
    if (typeof signature !== 'string' || signature === '') {
      throw new ApiError('INVALID_SIGNATURE', 'The Stripe-Signature header is missing.', { reason: 'MISSING_SIGNATURE' });
    }
    let event: unknown;
    try {
      event = Stripe.webhooks.constructEvent(raw, signature, config.webhookSecret, config.toleranceSeconds);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        const stale = /tolerance/i.test(error.message);
        throw new ApiError('INVALID_SIGNATURE', stale ? 'The signature timestamp is outside the tolerance.' : 'The Stripe signature does not match the body.', {
          reason: stale ? 'STALE_TIMESTAMP' : 'BAD_SIGNATURE',
          ...(stale ? { toleranceSeconds: config.toleranceSeconds } : {}),
        });
      }
      if (error instanceof SyntaxError) throw new ApiError('INVALID_JSON', 'The request body is not valid JSON.');
      throw error;
    }
    if (!isEventEnvelope(event)) throw new ApiError('INVALID_REQUEST', 'The body is not a Stripe event (id evt_…, type, created).');
    const now = clock();
    const { created } = await store(
      { id: event.id, type: event.type, created: new Date(event.created * 1000), livemode: event.livemode === true, body: raw.toString('utf8') },
      now,
    );
    // A repeated delivery is queued again too: the job id is the event id, so BullMQ ignores it
    // while the first job exists, and it recovers an event whose first enqueue failed. The status
    // stays `received` (one write less per event); the worker's result replaces it.
    try {
      await withTimeout(enqueue(event.id), enqueueTimeoutMs);
    } catch (error) {
      logger.warn({ err: error, eventId: event.id, requestId }, 'stripe event stored but not queued; the sweep will queue it');
    }
    return { status: 200, body: { received: true, id: event.id, duplicate: !created } };
  };

  return (request, response) => {
    // In front of every request (the validate hot path too): one prefix check, no allocation.
    const url = request.url ?? '';
    if (!url.startsWith(STRIPE_WEBHOOK_PATH) || (url.length > STRIPE_WEBHOOK_PATH.length && url[STRIPE_WEBHOOK_PATH.length] !== '?')) return false;
    const given = request.headers['x-request-id'];
    const requestId = requestIds(typeof given === 'string' ? given : undefined);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (response.headersSent) return;
      const text = JSON.stringify(body);
      response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId });
      response.end(text);
    };
    if (request.method !== 'POST') {
      const answer = errorAnswer(new ApiError('METHOD_NOT_ALLOWED', 'Use POST.'), requestId);
      send(answer.status, answer.body, { ...answer.headers, allow: 'POST' });
      request.resume();
      return true;
    }
    handle(request, requestId).then(
      (result) => send(result.status, result.body),
      (error: unknown) => {
        const answer = errorAnswer(error, requestId);
        if (answer.fault) logger.error({ err: error, requestId }, 'stripe webhook failed');
        const close = typeof error === 'object' && error !== null && (error as { close?: boolean }).close === true;
        send(answer.status, answer.body, close ? { ...answer.headers, connection: 'close' } : answer.headers);
        if (!close) request.resume();
      },
    );
    return true;
  };
}
