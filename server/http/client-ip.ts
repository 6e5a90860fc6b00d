/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the nearest
 * untrusted address in X-Forwarded-For (proxy-addr, the rule Express uses). With no trusted
 * proxies, X-Forwarded-For is ignored: anyone can write it.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/** Returns the client address of a request. */
export type ClientIpResolver = (request: IncomingMessage) => string;

/** Builds a resolver trusting these proxies (IPs or CIDRs, or `loopback`, `linklocal`, `uniquelocal`). */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  // Nobody trusted: the peer is the client, and X-Forwarded-For need not even be read.
  if (trustedProxies.length === 0) return (request) => request.socket.remoteAddress ?? '';
  const trust = proxyAddr.compile([...trustedProxies]);
  return (request) => proxyAddr(request, trust);
}
