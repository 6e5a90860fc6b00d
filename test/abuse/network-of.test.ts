import { describe, expect, it } from 'vitest';
import fc from 'fast-check';

import { networkGroupOf, networkOf } from '../../lib/abuse/network-of.js';

describe('networkOf', () => {
  it.each([
    ['IPv4: its /24', '203.0.113.7', '203.0.113.0/24'],
    ['IPv4 network address itself', '10.0.0.0', '10.0.0.0/24'],
    ['IPv4 broadcast-looking address', '255.255.255.255', '255.255.255.0/24'],
    ['IPv6: its /64 in RFC 5952 form', '2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['IPv6 compressed', '2001:db8::1', '2001:db8::/64'],
    ['IPv6 with zeros inside the prefix', '2001:0:0:5::1', '2001:0:0:5::/64'],
    ['IPv6 with a longer zero run later', '2001:db8:0:1:0:0:0:1', '2001:db8:0:1::/64'],
    ['IPv6 loopback', '::1', '::/64'],
    ['IPv6 with a zone index', 'fe80::1%eth0', 'fe80::/64'],
    ['IPv4-mapped IPv6, dotted', '::ffff:198.51.100.23', '198.51.100.0/24'],
    ['IPv4-mapped IPv6, hex', '::ffff:c633:6417', '198.51.100.0/24'],
    ['IPv4-mapped IPv6, upper case', '::FFFF:198.51.100.23', '198.51.100.0/24'],
    ['IPv4-compatible tail that is not mapped', '64:ff9b::198.51.100.23', '64:ff9b::/64'],
  ])('%s', (_name, ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });

  it.each([
    ['empty', ''],
    ['a host name', 'example.com'],
    ['an IPv4 octet out of range', '256.1.1.1'],
    ['leading zeros (ambiguous octal)', '010.1.1.1'],
    ['three octets', '10.1.1'],
    ['two compressions', '1::2::3'],
    ['nine groups', '1:2:3:4:5:6:7:8:9'],
    ['a group of five digits', '12345::1'],
  ])('gives text that is not an address a group of its own, never a network: %s', (_name, text) => {
    expect(networkOf(text)).toBe(`?${text}`);
  });

  it('gives every address of one /24 or /64 the same network, and none other', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 255 }), (ip, last) => {
        const sibling = ip.split('.').slice(0, 3).concat(String(last)).join('.');
        expect(networkOf(sibling)).toBe(networkOf(ip));
        expect(networkOf(ip).endsWith('/24')).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const network = networkOf(ip);
        expect(network).toMatch(/\/(24|64)$/);
      }),
    );
  });
});

describe('networkGroupOf', () => {
  it.each([
    ['IPv4: its /16', '45.83.64.7', '45.83.0.0/16'],
    ['IPv4-mapped IPv6: the IPv4 /16', '::ffff:198.51.100.23', '198.51.0.0/16'],
    ['IPv6: its /32', '2a00:1450:4001:81b::200e', '2a00:1450::/32'],
    ['IPv6 loopback', '::1', '::/32'],
    ['not an address: a group of its own', 'example.com', '?example.com'],
  ])('%s', (_name, ip, group) => {
    expect(networkGroupOf(ip)).toBe(group);
  });

  it('holds every network of its addresses: two addresses in one /24 or /64 are in one group', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (ip, third, last) => {
        const [a, b] = ip.split('.');
        expect(networkGroupOf(`${a}.${b}.${third}.${last}`)).toBe(networkGroupOf(ip));
        expect(networkGroupOf(ip)).toBe(`${a}.${b}.0.0/16`);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (x, y) => {
        if (networkOf(x) === networkOf(y)) expect(networkGroupOf(x)).toBe(networkGroupOf(y));
      }),
    );
  });
});
