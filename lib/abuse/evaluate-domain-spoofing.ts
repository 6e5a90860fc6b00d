/**
 * Domain spoofing: a browser request whose Origin or Referer names another site than the domain
 * the request claims, or a site the license does not cover. Browsers set those headers
 * themselves, so a key copied onto a foreign site shows there even when the client lies about
 * its domain in the request body.
 */
import { normaliseDomain } from '../lifecycle/binding-value.js';
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
 * `example.com`). Local development hosts (`localhost`, `*.localhost`, `*.local`) and unreadable
 * or `null` origins are not judged.
 *
 * @param licensedDomains - The license's domain activations; `null` when the license binds no
 *   domains, in which case only a mismatch with the claimed domain counts.
 */
export function evaluateDomainSpoofing(claim: DomainClaim, licensedDomains: readonly string[] | null): DomainSpoofingVerdict {
  const claimed = claim.domain === null ? null : normaliseDomain(claim.domain);
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

/** The normalised host of an Origin or Referer header; `null` when absent, opaque or local. */
export function hostOf(header: string | null): string | null {
  if (header === null || header === '' || header === 'null') return null;
  const host = normaliseDomain(header);
  if (host === null || host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return null;
  return host;
}

function sameSite(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
