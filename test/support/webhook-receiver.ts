/**
 * A webhook receiver for tests: a real HTTP server on loopback that verifies every delivery
 * with the `standardwebhooks` library (as a vendor's receiver would) and records what arrived.
 * It can answer 2xx, fail (503), hang until released, or be stopped and started again on the
 * same port (receiver down, then up).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { Webhook } from 'standardwebhooks';

/** One verified delivery. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** How the receiver answers. */
export type ReceiverMode = 'ok' | 'fail' | 'hang';

/** A running receiver. */
export interface WebhookReceiver {
  readonly url: string;
  /** Every verified delivery, duplicates included, in arrival order. */
  readonly deliveries: ReceivedWebhook[];
  /** Requests whose signature did not verify with any of the secrets. */
  readonly rejected: string[];
  /** TCP connections accepted, ever. */
  readonly connections: () => number;
  /** Deliveries deduplicated by webhook-id, as a receiver should. */
  unique(): Map<string, ReceivedWebhook>;
  /** Secrets the receiver verifies with (any one suffices). */
  setSecrets(secrets: readonly string[]): void;
  setMode(mode: ReceiverMode): void;
  /** Answers every hanging request (with 200). */
  release(): void;
  /** Resolves once at least `count` unique ids arrived. */
  waitForUnique(count: number): Promise<void>;
  /** Resolves once at least `count` verified deliveries arrived, duplicates included. */
  waitForDeliveries(count: number): Promise<void>;
  /** Resolves once `count` requests are hanging. */
  waitForHanging(count: number): Promise<void>;
  /** Stops listening (connections refused) until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 that verifies with `secrets`. */
export async function startWebhookReceiver(secrets: readonly string[] = []): Promise<WebhookReceiver> {
  let verifiers = secrets.map((secret) => new Webhook(secret));
  let mode: ReceiverMode = 'ok';
  let connections = 0;
  const deliveries: ReceivedWebhook[] = [];
  const rejected: string[] = [];
  const hanging: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  const notify = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  const unique = (): Map<string, ReceivedWebhook> => new Map(deliveries.map((delivery) => [delivery.id, delivery]));

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const verified = verifiers.some((verifier) => {
        try {
          verifier.verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      if (!verified) {
        rejected.push(headers['webhook-id'] ?? '');
        response.writeHead(400).end();
        notify();
        return;
      }
      if (mode === 'fail') {
        response.writeHead(503).end('down for maintenance');
        return;
      }
      const payload = JSON.parse(body) as { id: string; type: string; timestamp: string; data: Record<string, unknown> };
      deliveries.push({ id: headers['webhook-id'] ?? '', type: payload.type, timestamp: payload.timestamp, data: payload.data, headers, body });
      if (mode === 'hang') {
        hanging.push(response);
      } else {
        response.writeHead(204).end();
      }
      notify();
    });
  };

  let server: Server = createServer(handle);
  const track = (socket: Socket): void => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  server.on('connection', track);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const until = async (done: () => boolean): Promise<void> => {
    while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
  };

  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${String(port)}/hooks`,
    deliveries,
    rejected,
    connections: () => connections,
    unique,
    setSecrets(next) {
      verifiers = next.map((secret) => new Webhook(secret));
    },
    setMode(next) {
      mode = next;
    },
    release() {
      for (const response of hanging.splice(0)) response.writeHead(200).end();
    },
    waitForUnique: (count) => until(() => unique().size >= count),
    waitForDeliveries: (count) => until(() => deliveries.length >= count),
    waitForHanging: (count) => until(() => hanging.length >= count),
    async stop() {
      receiver.release();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async start() {
      server = createServer(handle);
      server.on('connection', track);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      if (server.listening) await receiver.stop();
    },
  };
  return receiver;
}
