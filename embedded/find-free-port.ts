import { createServer } from 'node:net';

/**
 * Asks the kernel for a TCP port that is free on `host` right now.
 *
 * The port is released before this returns, so another process can take it before the caller
 * binds it: callers that cannot bind port 0 themselves (redis-server treats port 0 as "no TCP")
 * must retry on `EADDRINUSE`.
 *
 * @param host - Interface to probe. Default: `127.0.0.1`.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
