/**
 * Specification of where webhooks may go (pure rules). Invariant: under the strict policy no
 * loopback, private, link-local, unique-local or otherwise special address is ever allowed, in
 * any spelling (IPv4, IPv4-mapped IPv6); public unicast addresses are; each setting opens
 * exactly its own ranges.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { checkAddress, checkEndpointUrl, STRICT_ADDRESS_POLICY } from '../../lib/webhooks/address-policy.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';

const octet = fc.integer({ min: 0, max: 255 });
const inRange = (first: number[], bits: number): fc.Arbitrary<string> =>
  fc.tuple(octet, octet, octet, octet).map((random) => {
    const address = random.map((value, index) => {
      const prefixBits = Math.max(0, Math.min(8, bits - index * 8));
      const mask = prefixBits === 0 ? 0 : (0xff << (8 - prefixBits)) & 0xff;
      return ((first[index] ?? 0) & mask) | (value & ~mask & 0xff);
    });
    return address.join('.');
  });

const loopback = inRange([127], 8);
const privateV4 = fc.oneof(inRange([10], 8), inRange([172, 16], 12), inRange([192, 168], 16), inRange([169, 254], 16), inRange([100, 64], 10));
const mapped = (v4: fc.Arbitrary<string>): fc.Arbitrary<string> => v4.map((address) => `::ffff:${address}`);
const LOOPBACK_ONLY = { allowLoopback: true, allowPrivate: false };
const PRIVATE_ONLY = { allowLoopback: false, allowPrivate: true };

describe('checkAddress', () => {
  it('refuses every loopback and private address under the strict policy, IPv4-mapped spellings included', () => {
    fc.assert(
      fc.property(fc.oneof(loopback, privateV4, mapped(loopback), mapped(privateV4)), (address) => {
        const check = checkAddress(address, STRICT_ADDRESS_POLICY);
        expect(check).toMatchObject({ allowed: false, code: 'ADDRESS_NOT_ALLOWED' });
      }),
    );
  });

  it('allows loopback only with allowLoopback, private ranges only with allowPrivate', () => {
    fc.assert(
      fc.property(fc.oneof(loopback, mapped(loopback)), (address) => {
        expect(checkAddress(address, LOOPBACK_ONLY).allowed).toBe(true);
        expect(checkAddress(address, PRIVATE_ONLY).allowed).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(privateV4, mapped(privateV4)), (address) => {
        expect(checkAddress(address, PRIVATE_ONLY).allowed).toBe(true);
        expect(checkAddress(address, LOOPBACK_ONLY).allowed).toBe(false);
      }),
    );
  });

  it.each([['::1'], ['fe80::1'], ['fd12:3456::1'], ['0.0.0.0'], ['255.255.255.255'], ['224.0.0.1'], ['198.18.0.1'], ['not-an-ip']])(
    'refuses %s under the strict policy',
    (address) => {
      expect(checkAddress(address, STRICT_ADDRESS_POLICY).allowed).toBe(false);
    },
  );

  it('allows public addresses in 30 countries (geoip-lite data)', () => {
    for (const [, ip] of COUNTRY_IPS) expect(checkAddress(ip, STRICT_ADDRESS_POLICY)).toEqual({ allowed: true });
  });
});

describe('checkEndpointUrl', () => {
  it.each([
    ['https://hooks.example.com/keyward', STRICT_ADDRESS_POLICY, true],
    ['http://hooks.example.com/keyward', STRICT_ADDRESS_POLICY, 'INSECURE_WEBHOOK_URL'],
    ['http://127.0.0.1:9000/hooks', STRICT_ADDRESS_POLICY, 'INSECURE_WEBHOOK_URL'],
    ['http://127.0.0.1:9000/hooks', LOOPBACK_ONLY, true],
    ['http://localhost:9000/hooks', LOOPBACK_ONLY, true],
    ['http://[::1]:9000/hooks', LOOPBACK_ONLY, true],
    ['http://10.0.0.5/hooks', PRIVATE_ONLY, 'INSECURE_WEBHOOK_URL'],
    ['https://10.0.0.5/hooks', STRICT_ADDRESS_POLICY, 'ADDRESS_NOT_ALLOWED'],
    ['https://192.168.1.20/hooks', STRICT_ADDRESS_POLICY, 'ADDRESS_NOT_ALLOWED'],
    ['https://192.168.1.20/hooks', PRIVATE_ONLY, true],
    ['https://localhost/hooks', STRICT_ADDRESS_POLICY, 'ADDRESS_NOT_ALLOWED'],
    ['https://0x7f000001/hooks', STRICT_ADDRESS_POLICY, 'ADDRESS_NOT_ALLOWED'],
    ['https://user:pass@hooks.example.com/', STRICT_ADDRESS_POLICY, 'INVALID_WEBHOOK_URL'],
    ['ftp://hooks.example.com/', STRICT_ADDRESS_POLICY, 'INVALID_WEBHOOK_URL'],
    ['hooks.example.com/keyward', STRICT_ADDRESS_POLICY, 'INVALID_WEBHOOK_URL'],
  ] as const)('%s → %s', (url, policy, expected) => {
    const check = checkEndpointUrl(url, policy);
    if (expected === true) expect(check).toEqual({ allowed: true });
    else expect(check).toMatchObject({ allowed: false, code: expected });
  });
});
