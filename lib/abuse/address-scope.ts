/**
 * Whether an address can be placed on a map at all. Private, loopback, link-local, shared (CGN)
 * and documentation ranges are counted apart by the geo-spread rule, never as a country.
 */
import { parseIpAddress, type IpAddress } from './ip-address.js';

/** `public`: routable on the Internet; `private`: a reserved range; `invalid`: not an address. */
export type AddressScope = 'public' | 'private' | 'invalid';

/** IPv4 reserved ranges as [first octets as a 32-bit number, prefix length]. */
const IPV4_RESERVED: readonly (readonly [number, number])[] = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 shared address space (CGN)
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24 protocol assignments
  [0xc0000200, 24], // 192.0.2/24 TEST-NET-1
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xc6336400, 24], // 198.51.100/24 TEST-NET-2
  [0xcb007100, 24], // 203.0.113/24 TEST-NET-3
  [0xe0000000, 3], // 224/4 multicast and 240/4 reserved
];

/** Each reserved range as the shift that keeps its prefix, and the prefix. */
const RESERVED_SHIFTS = Uint8Array.from(IPV4_RESERVED, ([, bits]) => 32 - bits);
const RESERVED_PREFIXES = Uint32Array.from(IPV4_RESERVED, ([base, bits]) => base >>> (32 - bits));

/** The scope of an address in text form (IPv4-mapped IPv6 is judged as IPv4). */
export function addressScopeOf(ip: string): AddressScope {
  const address = parseIpAddress(ip);
  return address ? scopeOfAddress(address) : 'invalid';
}

/** The scope of a parsed address, for callers that parsed it already. */
export function scopeOfAddress(address: IpAddress): Exclude<AddressScope, 'invalid'> {
  if (address.version === 4) {
    const value = ipv4Value(address.octets);
    // Indexed loops over flat arrays: this runs for every validation the detector sees, and
    // destructuring each range allocated an iterator per range and call.
    for (let i = 0; i < RESERVED_PREFIXES.length; i += 1) {
      if (value >>> RESERVED_SHIFTS[i]! === RESERVED_PREFIXES[i]) return 'private';
    }
    return 'public';
  }
  const first = address.groups[0] ?? 0;
  const unspecifiedOrLoopback = address.groups.slice(0, 7).every((group) => group === 0);
  if (unspecifiedOrLoopback) return 'private'; // :: and ::1
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'private'; // fe80::/10 link-local
  if ((first & 0xff00) === 0xff00) return 'private'; // ff00::/8 multicast
  if (first === 0x2001 && address.groups[1] === 0x0db8) return 'private'; // 2001:db8::/32 documentation
  return 'public';
}

/** An IPv4 address as an unsigned 32-bit number. */
export function ipv4Value(octets: readonly [number, number, number, number]): number {
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}
