/**
 * Specification of one attempt's safety: an address the policy refuses is refused before any
 * connection is made (the receiver the test started sees no connection), every resolved
 * address is checked, redirects are not followed, a hanging receiver is cut off at the
 * deadline, and a large answer is not read past the cap.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { STRICT_ADDRESS_POLICY } from '../../lib/webhooks/address-policy.js';
import { createWebhookSender, type ResolvedAddress } from '../../worker/webhooks/webhook-sender.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver();
  cleanups.push(() => started.close());
  return started;
}

function sender(options: Parameters<typeof createWebhookSender>[0]) {
  const created = createWebhookSender(options);
  cleanups.push(() => created.close());
  return created;
}

async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server: Server = createServer(handler);
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks`, connections: () => connections };
}

const request = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{}' });

describe('addresses refused before any connection', () => {
  it('refuses a loopback receiver unless loopback is allowed, and never connects to it', async () => {
    const target = await receiver();
    const strict = sender({ policy: { allowLoopback: false, allowPrivate: true } });
    // http:// to loopback is itself refused; so is an https:// name that resolves to loopback.
    expect(await strict.send(request(target.url))).toMatchObject({ ok: false, refused: true, statusCode: null });
    const resolvesToLoopback = sender({
      policy: { allowLoopback: false, allowPrivate: false },
      resolve: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
    });
    const port = new URL(target.url).port;
    expect(await resolvesToLoopback.send(request(`https://hooks.example.com:${port}/hooks`))).toMatchObject({ ok: false, refused: true });
    expect(target.connections()).toBe(0);
  });

  it.each([['10.0.0.5'], ['192.168.1.20'], ['172.16.4.4'], ['169.254.169.254'], ['fd00::1']])(
    'refuses a host that resolves to %s, even beside a public address',
    async (address) => {
      const resolved: ResolvedAddress[] = [{ address: '93.184.216.34', family: 4 }, { address, family: address.includes(':') ? 6 : 4 }];
      const attempt = await sender({ policy: STRICT_ADDRESS_POLICY, resolve: () => Promise.resolve(resolved) }).send(request('https://hooks.example.com/keyward'));
      expect(attempt).toMatchObject({ ok: false, refused: true, statusCode: null });
      expect(attempt.error).toContain(address);
    },
  );

  it('refuses IP-literal URLs in private ranges without resolving anything', async () => {
    const strict = sender({ policy: STRICT_ADDRESS_POLICY, resolve: () => Promise.reject(new Error('must not resolve')) });
    for (const url of ['https://10.1.2.3/h', 'https://192.168.0.1/h', 'https://[::1]/h', 'https://[::ffff:10.0.0.1]/h']) {
      expect(await strict.send(request(url))).toMatchObject({ ok: false, refused: true });
    }
  });

  it('delivers to the loopback receiver when the development setting allows it', async () => {
    const target = await receiver();
    target.setSecrets([]);
    const allowed = sender({ policy: { allowLoopback: true, allowPrivate: false } });
    const attempt = await allowed.send(request(target.url));
    // The receiver refuses the unsigned request (400), which proves the connection was made.
    expect(attempt).toMatchObject({ ok: false, refused: false, statusCode: 400 });
    expect(target.connections()).toBe(1);
  });
});

describe('one attempt', () => {
  const loopback = { allowLoopback: true, allowPrivate: false };

  it('does not follow a redirect', async () => {
    const followed: string[] = [];
    const target = await rawServer((incoming, response) => {
      followed.push(incoming.url ?? '');
      response.writeHead(302, { location: '/elsewhere' }).end();
    });
    const attempt = await sender({ policy: loopback }).send(request(target.url));
    expect(attempt).toMatchObject({ ok: false, statusCode: 302 });
    expect(attempt.error).toContain('redirects are not followed');
    expect(followed).toEqual(['/hooks']);
  });

  it('gives up on a receiver that does not answer by the deadline', async () => {
    const target = await rawServer(() => undefined);
    const attempt = await sender({ policy: loopback, timeoutMs: 200 }).send(request(target.url));
    expect(attempt).toMatchObject({ ok: false, statusCode: null, error: 'no answer within 200 ms' });
  });

  it('reads no more of an answer than the cap', async () => {
    let written = 0;
    const target = await rawServer((_incoming, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end();
      };
      response.on('close', () => undefined);
      pump();
    });
    const attempt = await sender({ policy: loopback, maxResponseBytes: 1024 }).send(request(target.url));
    expect(attempt).toMatchObject({ ok: true, statusCode: 200 });
    // The socket was closed long before the 64 MiB answer was written.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});
