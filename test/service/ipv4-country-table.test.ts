import geoip from 'geoip-lite';
import { describe, expect, it } from 'vitest';

import { installedIpv4CountryTable, Ipv4CountryTable } from '../../lib/service/ipv4-country-table.js';

/** Records of 10 bytes: start, end (big-endian uint32), two-letter country. */
function tableOf(ranges: readonly [number, number, string][]): Ipv4CountryTable {
  const data = Buffer.alloc(ranges.length * 10);
  ranges.forEach(([start, end, country], i) => {
    data.writeUInt32BE(start, i * 10);
    data.writeUInt32BE(end, i * 10 + 4);
    data.write(country, i * 10 + 8, 'latin1');
  });
  return new Ipv4CountryTable(data);
}

describe('Ipv4CountryTable', () => {
  const table = tableOf([
    [10, 19, 'DE'],
    [20, 20, 'FR'],
    [40, 0xffff_ffff, 'KE'],
  ]);

  it.each([
    [10, 'DE'],
    [19, 'DE'],
    [20, 'FR'],
    [40, 'KE'],
    [0xffff_ffff, 'KE'],
  ])('finds %i in its range: %s', (address, country) => {
    expect(table.countryOf(address)).toBe(country);
  });

  it.each([0, 9, 21, 39])('answers null for %i, which no range holds', (address) => {
    expect(table.countryOf(address)).toBeNull();
  });

  it('refuses data that is not whole records', () => {
    expect(() => new Ipv4CountryTable(new Uint8Array(15))).toThrow(/not a whole number/);
  });

  it("reads the installed geoip-lite's country data and answers as geoip-lite does", () => {
    const installed = installedIpv4CountryTable();
    expect(installed).not.toBeNull();
    // Spread over the address space by a fixed multiplicative step, so the sample is the same every run.
    for (let i = 0; i < 5_000; i += 1) {
      const address = Math.imul(i, 0x9e37_79b1) >>> 0;
      const found = geoip.lookup(address);
      expect(installed!.countryOf(address), `address ${address}`).toBe(found && found.country !== '' ? found.country : null);
    }
  });
});
