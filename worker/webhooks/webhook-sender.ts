/**
 * One webhook attempt over HTTP(S), safe against server-side request forgery: the host is
 * resolved first and every address it resolves to is checked against the address policy
 * before any connection is made; the connection then goes to one of those checked addresses
 * (the socket's lookup is pinned to them, so a second DNS answer cannot swap in another).
 * Redirects are not followed (a 3xx is a failed attempt), each attempt has a deadline, and at
 * most `maxResponseBytes` of the answer are read. Failures are values, never exceptions, and
 * their descriptions carry no header, secret or response body.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import ipaddr from 'ipaddr.js';

import { checkAddress, checkEndpointUrl, type AddressPolicy } from '../../lib/webhooks/address-policy.js';

/** One request to make. */
export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What an attempt came to. */
export interface SendResult {
  /** A 2xx answer. */
  readonly ok: boolean;
  /** The status answered, or null when there was no answer. */
  readonly statusCode: number | null;
  readonly latencyMs: number;
  /** Why it failed; null when it succeeded. */
  readonly error: string | null;
  /** The policy refused an address: no connection was made. */
  readonly refused: boolean;
}

/** Sends one attempt. */
export type WebhookSend = (request: WebhookRequest) => Promise<SendResult>;

/** A resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Options for {@link createWebhookSender}. */
export interface WebhookSenderOptions {
  /** Which addresses may be reached. Required. */
  readonly policy: AddressPolicy;
  /** Deadline of one attempt, connection included, in ms. Default 15,000. */
  readonly timeoutMs?: number;
  /** Most bytes of an answer read (the rest is dropped and the socket closed). Default 65,536. */
  readonly maxResponseBytes?: number;
  /** Resolves a host to all its addresses. Default: `dns.lookup` with `all: true`. */
  readonly resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Sockets kept open per host (keep-alive). Default 16. */
  readonly maxSockets?: number;
}

/** A sender and the agents it keeps. */
export interface WebhookSender {
  readonly send: WebhookSend;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

const defaultResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** Builds a sender. */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxResponseBytes = options.maxResponseBytes ?? 65_536;
  const resolve = options.resolve ?? defaultResolve;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 16, maxFreeSockets: options.maxSockets ?? 16 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const send: WebhookSend = async (request) => {
    const started = performance.now();
    const failed = (error: string, refused = false, statusCode: number | null = null): SendResult => ({
      ok: false,
      statusCode,
      latencyMs: Math.round(performance.now() - started),
      error,
      refused,
    });
    const urlCheck = checkEndpointUrl(request.url, options.policy);
    if (!urlCheck.allowed) return failed(urlCheck.message, true);
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly ResolvedAddress[];
    if (ipaddr.isValid(host)) {
      addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
    } else {
      try {
        addresses = await resolve(host);
      } catch (error) {
        return failed(`could not resolve the host: ${error instanceof Error && 'code' in error ? String(error.code) : 'lookup failed'}`);
      }
      if (addresses.length === 0) return failed('the host resolved to no address');
    }
    // Every address is checked, not only the first: the socket may try any of them.
    for (const { address } of addresses) {
      const check = checkAddress(address, options.policy);
      if (!check.allowed) return failed(check.message, true);
    }
    const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
      if (lookupOptions.all) callback(null, addresses.map(({ address, family }) => ({ address, family })));
      else {
        const [first] = addresses;
        callback(null, first?.address ?? '', first?.family ?? 4);
      }
    };
    const protocol = url.protocol === 'http:' ? 'http:' : 'https:';
    const client = protocol === 'http:' ? http : https;
    return new Promise<SendResult>((settle) => {
      let done = false;
      const finish = (result: SendResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settle(result);
      };
      const outgoing = client.request(
        {
          protocol,
          hostname: url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          agent: agents[protocol],
          lookup: pinned,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        },
        (response) => {
          const statusCode = response.statusCode ?? 0;
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            // Past the cap the answer is not read further; the status is all that counts.
            if (read > maxResponseBytes) response.destroy();
          });
          const settleWithStatus = (): void => {
            if (statusCode >= 200 && statusCode < 300) finish({ ok: true, statusCode, latencyMs: Math.round(performance.now() - started), error: null, refused: false });
            else if (statusCode >= 300 && statusCode < 400) finish(failed(`answered ${String(statusCode)}: redirects are not followed`, false, statusCode));
            else finish(failed(`answered ${String(statusCode)}`, false, statusCode));
          };
          response.on('end', settleWithStatus);
          response.on('close', settleWithStatus);
          response.on('error', settleWithStatus);
        },
      );
      const timer = setTimeout(() => {
        outgoing.destroy();
        finish(failed(`no answer within ${String(timeoutMs)} ms`));
      }, timeoutMs);
      outgoing.on('error', (error: NodeJS.ErrnoException) => finish(failed(`request failed: ${error.code ?? error.message}`)));
      outgoing.end(request.body);
    });
  };

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
