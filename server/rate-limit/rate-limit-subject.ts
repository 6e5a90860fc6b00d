/**
 * What the per-IP limit counts: one IPv4 address, or one IPv6 network. A single IPv6 client
 * usually holds a whole /64 (the smallest prefix an ISP hands a site) and can pick a fresh
 * address per request, so counting IPv6 addresses one by one never limits anybody.
 */
import { formatIpAddress, parseIpAddress } from '../../lib/abuse/ip-address.js';

/** IPv6 prefix length counted as one client unless configured. */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64;

/**
 * The counter id of a client address: `203.0.113.7` for IPv4 (IPv4-mapped IPv6 included),
 * `2001:db8:1:2::/64` for IPv6 at the given prefix length (1-128); text that is not an address
 * keeps its own counter behind a `?`.
 */
export function rateLimitSubjectOf(ip: string, ipv6PrefixLength: number = DEFAULT_IPV6_PREFIX_LENGTH): string {
  const address = parseIpAddress(ip);
  if (!address) return `?${ip}`;
  if (address.version === 4) return formatIpAddress(address);
  const groups = address.groups.map((group, index) => {
    const kept = Math.min(16, Math.max(0, ipv6PrefixLength - index * 16));
    return kept === 0 ? 0 : group & ((0xffff << (16 - kept)) & 0xffff);
  });
  return `${formatIpAddress({ version: 6, groups })}/${ipv6PrefixLength}`;
}
