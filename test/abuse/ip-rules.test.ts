import { describe, expect, it } from 'vitest';

import { addressScopeOf } from '../../lib/abuse/address-scope.js';
import { formatIpAddress, parseIpAddress } from '../../lib/abuse/ip-address.js';
import { networkOf } from '../../lib/abuse/network-of.js';

describe('networkOf', () => {
  it.each([
    ['198.51.100.7', '198.51.100.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['::ffff:8.8.4.4', '8.8.4.0/24'],
    ['::FFFF:0808:0404', '8.8.4.0/24'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['::1', '::/64'],
    ['not-an-ip', '?not-an-ip'],
    ['1.2.3.256', '?1.2.3.256'],
  ])('%s is in %s', (ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });
});

describe('parseIpAddress', () => {
  it.each([
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['198.51.100.7', '198.51.100.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    [' 198.51.100.7 ', '198.51.100.7'],
  ])('%s is written %s', (input, canonical) => {
    const address = parseIpAddress(input);
    expect(address && formatIpAddress(address)).toBe(canonical);
  });

  it.each(['', '1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', '1.2.3.4.5', '256.1.2.3', '1.2.3.1000', '1.2.3.-4', '010.001.2.3', '1.02.3.4', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::1'])('refuses %j', (input) => {
    expect(parseIpAddress(input)).toBeNull();
  });
});

describe('addressScopeOf', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['127.0.0.1', 'private'],
    ['169.254.1.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::1', 'private'],
    ['fd00::1', 'private'],
    ['fe80::1', 'private'],
    ['2001:db8::1', 'private'],
    ['2a00:1450:4001:81b::200e', 'public'],
    ['bogus', 'invalid'],
  ])('%s is %s', (ip, scope) => {
    expect(addressScopeOf(ip)).toBe(scope);
  });

  it.each([
    // The first and last address of reserved IPv4 ranges, and their neighbours outside.
    ['0.0.0.0', 'private'],
    ['0.255.255.255', 'private'],
    ['1.0.0.0', 'public'],
    ['9.255.255.255', 'public'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.64.0.0', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.31.255.255', 'private'],
    ['192.0.1.0', 'public'],
    ['192.0.2.255', 'private'],
    ['198.17.255.255', 'public'],
    ['198.18.0.0', 'private'],
    ['198.19.255.255', 'private'],
    ['198.20.0.0', 'public'],
    ['203.0.112.255', 'public'],
    ['203.0.113.255', 'private'],
    ['223.255.255.255', 'public'],
    ['224.0.0.0', 'private'],
    ['255.255.255.255', 'private'],
  ])('range edge %s is %s', (ip, scope) => {
    expect(addressScopeOf(ip)).toBe(scope);
  });
});
