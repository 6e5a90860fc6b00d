/**
 * The worker's Prometheus endpoint: `GET /metrics` on a small node:http server of its own (the
 * worker has no web framework, and needs none for one route).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

/** Options for {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** The metrics to serve. Required. */
  readonly registry: Registry;
  /** TCP port; 0 picks a free one (tests). Required. */
  readonly port: number;
  /** Interface to listen on. Default: `127.0.0.1` (set `0.0.0.0` for a scraper on another host). */
  readonly host?: string;
}

/** A listening metrics server. */
export interface RunningMetricsServer {
  /** `http://<host>:<port>` as bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the registry's metrics on `GET /metrics` (404 elsewhere, 405 for other methods).
 * A scrape that fails to collect answers 500 without details.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningMetricsServer> {
  const { registry } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  server.listen(options.port, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
