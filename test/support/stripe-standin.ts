/**
 * A small stateful stand-in for the Stripe API, for what stripe-mock cannot show: stripe-mock
 * answers every id with the same placeholder object, so it cannot say which invoice a payment
 * intent paid or what a subscription looks like now. The stand-in serves the objects a test puts
 * in it (built from Stripe's fixture objects, see stripe-events.ts) on the paths the `stripe`
 * library calls, over real HTTP, and records the requests it got.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { onTestFinished } from 'vitest';

type Json = Record<string, unknown>;

/** A running stand-in. */
export interface StripeStandIn {
  /** Base URL for `STRIPE_API_BASE_URL` (stripeApiOf). */
  readonly url: string;
  /** Objects by id: subscriptions, invoices, charges (`sub_…`, `in_…`, `ch_…`). */
  readonly objects: Map<string, Json>;
  /** Invoice payments by payment intent id. */
  readonly invoicePayments: Map<string, Json>;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
}

const notFound = (id: string) => ({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such object: '${id}'`, param: 'id' } });

/** Starts a stand-in for the current test (closed when it ends). */
export async function startStripeStandIn(): Promise<StripeStandIn> {
  const objects = new Map<string, Json>();
  const invoicePayments = new Map<string, Json>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://standin');
    requests.push(`${request.method ?? 'GET'} ${url.pathname}`);
    const send = (status: number, body: Json) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_standin_${requests.length}` });
      response.end(JSON.stringify(body));
    };
    const single = /^\/v1\/(subscriptions|invoices|charges)\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (request.method === 'GET' && single) {
      const id = single[2] ?? '';
      const found = objects.get(id);
      send(found ? 200 : 404, found ?? notFound(id));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/v1/invoice_payments') {
      const intent = url.searchParams.get('payment[payment_intent]') ?? '';
      const found = invoicePayments.get(intent);
      send(200, { object: 'list', data: found ? [found] : [], has_more: false, url: '/v1/invoice_payments' });
      return;
    }
    send(404, notFound(url.pathname));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, objects, invoicePayments, requests };
}
