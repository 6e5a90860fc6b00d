/**
 * The client network of an address, the unit key guessing is counted by: one attacker rarely
 * holds a single address, but usually sits in one /24 (IPv4) or one /64 (IPv6, the smallest
 * prefix an ISP hands a site).
 */
import { formatIpAddress, parseIpAddress } from './ip-address.js';

/**
 * `203.0.113.0/24` for IPv4 (IPv4-mapped IPv6 included), `2001:db8:1:2::/64` for IPv6; text that is
 * not an address keeps its own group behind a `?` (`?bogus`), never colliding with a network.
 */
export function networkOf(ip: string): string {
  const address = parseIpAddress(ip);
  if (!address) return `?${ip}`;
  if (address.version === 4) {
    const [a, b, c] = address.octets;
    return `${a}.${b}.${c}.0/24`;
  }
  const groups = [...address.groups.slice(0, 4), 0, 0, 0, 0];
  return `${formatIpAddress({ version: 6, groups })}/64`;
}

/**
 * The network group of an address, the unit distributed key guessing is counted by: the IPv4
 * /16 (`45.83.0.0/16`) or IPv6 /32 (`2a00:1450::/32`, a provider's usual allocation). A sweep
 * that rents addresses across a provider's block tries a handful of keys from each of its /24s
 * (or /64s) but stays inside a few groups. Text that is not an address is its own group, as in
 * {@link networkOf}.
 */
export function networkGroupOf(ip: string): string {
  const address = parseIpAddress(ip);
  if (!address) return `?${ip}`;
  if (address.version === 4) {
    const [a, b] = address.octets;
    return `${a}.${b}.0.0/16`;
  }
  const groups = [...address.groups.slice(0, 2), 0, 0, 0, 0, 0, 0];
  return `${formatIpAddress({ version: 6, groups })}/32`;
}
