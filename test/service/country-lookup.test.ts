import { describe, expect, it } from 'vitest';

import { CountryLookup } from '../../lib/service/country-lookup.js';

describe('CountryLookup', () => {
  const lookup = new CountryLookup({ maxEntries: 10 });

  it.each([
    ['2.161.10.20', { kind: 'country', country: 'DE' }],
    ['::ffff:2.161.10.20', { kind: 'country', country: 'DE' }],
    ['2a00:1450:4001:81b::200e', { kind: 'country', country: 'DE' }],
    ['2c0f:fb50:4003:802::200e', { kind: 'country', country: 'KE' }],
    ['10.1.2.3', { kind: 'private' }],
    ['::ffff:192.168.0.1', { kind: 'private' }],
    ['fd12:3456::1', { kind: 'private' }],
    ['not-an-ip', { kind: 'unknown' }],
  ])('%s is %o', (ip, location) => {
    expect(lookup.locate(ip)).toEqual(location);
    expect(lookup.locate(ip)).toEqual(location);
  });
});
