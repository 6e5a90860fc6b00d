/**
 * Where webhooks may go: the rules for endpoint URLs and for every address a host resolves to
 * (server-side request forgery). Pure: the worker resolves the host and asks here about each
 * address before it connects; the admin API asks here about the URL when it is saved.
 */
import ipaddr from 'ipaddr.js';

/** What the operator allows beyond public unicast over HTTPS. */
export interface AddressPolicy {
  /** Loopback addresses (127.0.0.0/8, ::1) and plain `http://` to them: development only. Default false. */
  readonly allowLoopback: boolean;
  /** Private, link-local, unique-local and carrier-grade NAT addresses (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10, 100.64/10). Default false. */
  readonly allowPrivate: boolean;
}

/** The default: public addresses over HTTPS only. */
export const STRICT_ADDRESS_POLICY: AddressPolicy = { allowLoopback: false, allowPrivate: false };

const PRIVATE_RANGES = new Set(['private', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

/** Why an address or URL is refused. */
export type AddressRefusalCode = 'INVALID_WEBHOOK_URL' | 'INSECURE_WEBHOOK_URL' | 'ADDRESS_NOT_ALLOWED';

/** An answer about an address or URL: allowed, or refused with a code and a message. */
export type AddressCheck = { readonly allowed: true } | { readonly allowed: false; readonly code: AddressRefusalCode; readonly message: string };

/** The range name of an address (`unicast`, `loopback`, `private`, …), IPv4-mapped IPv6 as its IPv4. */
export function addressRange(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
}

/** Whether a resolved address may be connected to under `policy`. Anything not an IP address is refused. */
export function checkAddress(address: string, policy: AddressPolicy): AddressCheck {
  if (!ipaddr.isValid(address)) return { allowed: false, code: 'ADDRESS_NOT_ALLOWED', message: `"${address}" is not an IP address.` };
  const range = addressRange(address);
  if (range === 'unicast') return { allowed: true };
  if (range === 'loopback' && policy.allowLoopback) return { allowed: true };
  if (PRIVATE_RANGES.has(range) && policy.allowPrivate) return { allowed: true };
  const hint = range === 'loopback' ? ' (allowed for development by WEBHOOK_ALLOW_LOOPBACK)' : PRIVATE_RANGES.has(range) ? ' (allowed by WEBHOOK_ALLOW_PRIVATE)' : '';
  return { allowed: false, code: 'ADDRESS_NOT_ALLOWED', message: `Webhooks may not go to ${range} address ${address}${hint}.` };
}

/** Whether a host name is a loopback name or address (`localhost`, `*.localhost`, 127.x, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && addressRange(host) === 'loopback';
}

/**
 * Whether an endpoint URL may be saved: an absolute `https://` URL without credentials (plain
 * `http://` only to a loopback host when `allowLoopback`), and, when its host is an IP literal,
 * an address the policy allows. Host names are resolved and checked at each delivery.
 */
export function checkEndpointUrl(url: string, policy: AddressPolicy): AddressCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { allowed: false, code: 'INVALID_WEBHOOK_URL', message: 'The URL is not an absolute URL, e.g. https://example.com/hooks/keyward.' };
  }
  if (parsed.username !== '' || parsed.password !== '') return { allowed: false, code: 'INVALID_WEBHOOK_URL', message: 'The URL may not carry credentials; authenticate deliveries with the signing secret.' };
  if (parsed.hash !== '') return { allowed: false, code: 'INVALID_WEBHOOK_URL', message: 'The URL may not have a #fragment.' };
  const loopback = isLoopbackHost(parsed.hostname);
  if (parsed.protocol === 'http:') {
    if (!(loopback && policy.allowLoopback)) {
      return { allowed: false, code: 'INSECURE_WEBHOOK_URL', message: 'Webhook URLs must use https:// (http:// to a loopback host only when WEBHOOK_ALLOW_LOOPBACK is set, for development).' };
    }
  } else if (parsed.protocol !== 'https:') {
    return { allowed: false, code: 'INVALID_WEBHOOK_URL', message: 'Webhook URLs must use https://.' };
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return checkAddress(host, policy);
  if (loopback && !policy.allowLoopback) return checkAddress('127.0.0.1', policy);
  return { allowed: true };
}
