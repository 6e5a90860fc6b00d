/**
 * Domain spoofing: a browser request whose Origin or Referer names another site than the domain
 * the request claims, or a site the license does not cover. Browsers set those headers
 * themselves, so a key copied onto a foreign site shows there even when the client lies about
 * its domain in the request body.
 */
import { normaliseDomain } from '../lifecycle/binding-value.js';
import { parseIpAddress, type IpAddress } from './ip-address.js';
import { ipv4Value } from './address-scope.js';
import type { DetectionThresholds } from './detection-thresholds.js';
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** The request fields the check reads (a subset of ValidationEvent). */
export interface DomainClaim {
  readonly origin: string | null;
  readonly referer: string | null;
  /** The domain the request body claims. */
  readonly domain: string | null;
}

/** Why a request counts as spoofed. */
export type SpoofReason = 'ORIGIN_MISMATCH' | 'REFERER_MISMATCH' | 'NOT_LICENSED';

/** The check of one request. */
export type DomainSpoofingVerdict =
  | { readonly spoofed: false }
  | { readonly spoofed: true; readonly reason: SpoofReason; readonly host: string; readonly claimedDomain: string | null };

const CLEAN: DomainSpoofingVerdict = { spoofed: false };

/**
 * Checks one request. Hosts are compared normalised (case, port, trailing dot and a leading
 * `www.` ignored), and a subdomain of a domain matches it (`app.example.com` runs on
 * `example.com`). Local development is not judged: `localhost`, `*.localhost`, `*.local`, and
 * IP literals of the developer's own machine or network (loopback, RFC 1918 private ranges,
 * link-local, IPv6 unique-local, `[::1]`). Opaque (`null`) origins are not judged either. Every
 * other host is, including those no license can name (an underscore in a label, a public IP
 * literal): a key copied onto `free_keys.mirror.example.net` is a copied key.
 *
 * @param licensedDomains - The license's domain activations; `null` when the license binds no
 *   domains, in which case only a mismatch with the claimed domain counts.
 */
export function evaluateDomainSpoofing(claim: DomainClaim, licensedDomains: readonly string[] | null): DomainSpoofingVerdict {
  const claimed = claim.domain === null ? null : (readHost(claim.domain)?.host ?? null);
  const sources: [string | null, SpoofReason][] = [
    [claim.origin, 'ORIGIN_MISMATCH'],
    [claim.referer, 'REFERER_MISMATCH'],
  ];
  for (const [header, reason] of sources) {
    const host = hostOf(header);
    if (host === null) continue;
    if (claimed !== null && !sameSite(host, claimed)) return { spoofed: true, reason, host, claimedDomain: claimed };
    if (licensedDomains !== null && !licensedDomains.some((domain) => sameSite(host, domain))) {
      return { spoofed: true, reason: 'NOT_LICENSED', host, claimedDomain: claimed };
    }
  }
  return CLEAN;
}

/** One key's spoofed requests over one UTC day. */
export interface SpoofingWindow {
  readonly spoofedRequests: number;
}

/** Flags `spoofedRequestsPerDay` or more spoofed requests in the day; the value is their number. */
export function evaluateSpoofingWindow(window: SpoofingWindow, thresholds: Pick<DetectionThresholds, 'spoofedRequestsPerDay'>): SignalVerdict {
  if (window.spoofedRequests < thresholds.spoofedRequestsPerDay) return NOT_FLAGGED;
  return flagged(window.spoofedRequests, thresholds.spoofedRequestsPerDay, 35);
}

/** The normalised host of an Origin or Referer header; `null` when absent, opaque or local development. */
export function hostOf(header: string | null): string | null {
  if (header === null || header === '' || header === 'null') return null;
  const read = readHost(header);
  return read === null || read.local ? null : read.host;
}

/**
 * The host named by a header or a claimed domain: a licensable domain in its normal form, an IP
 * literal (IPv6 in brackets, `[2001:db8::1]`), or, for what no license can name, the lower-cased
 * host as written; `local` for development hosts. `null` when no host can be read.
 */
function readHost(text: string): { host: string; local: boolean } | null {
  const domain = normaliseDomain(text);
  if (domain !== null) {
    const ipv4 = parseIpAddress(domain);
    return { host: domain, local: isLocalName(domain) || (ipv4 !== null && isLocalAddress(ipv4)) };
  }
  let host = text.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/[/?#].*$/, '').replace(/^.*@/, '');
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/.exec(host);
  if (bracketed) {
    const address = parseIpAddress(bracketed[1]!);
    if (address === null) return null;
    return { host: `[${bracketed[1]!}]`, local: isLocalAddress(address) };
  }
  host = host.replace(/:\d+$/, '').replace(/\.$/, '').replace(/^www\./, '');
  // Printable, no spaces or brackets: a host as a browser would send it, if not one a license can hold.
  if (host.length === 0 || host.length > 253 || !/^[\x21-\x7e]+$/.test(host) || /[[\]<>"\\]/.test(host)) return null;
  return { host, local: isLocalName(host) };
}

function isLocalName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local');
}

/** IPv4 ranges of a developer's own machine or network: [base, prefix length]. */
const LOCAL_IPV4: readonly (readonly [number, number])[] = [
  [0x00000000, 32], // 0.0.0.0 (a dev server bound to all interfaces)
  [0x0a000000, 8], // 10/8
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
];

function isLocalAddress(address: IpAddress): boolean {
  if (address.version === 4) {
    const value = ipv4Value(address.octets);
    return LOCAL_IPV4.some(([base, bits]) => (bits === 32 ? value === base : value >>> (32 - bits) === base >>> (32 - bits)));
  }
  const first = address.groups[0] ?? 0;
  if (address.groups.slice(0, 7).every((group) => group === 0)) return true; // :: and ::1
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80; // unique local, link-local
}

function sameSite(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
