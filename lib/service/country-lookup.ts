/**
 * Where a client address is, for the geo-spread rule: geoip-lite's country, with private
 * and unknown addresses kept apart so they are never counted as a country. IPv4 addresses are
 * searched in geoip-lite's country table (ipv4-country-table.ts: cheaper than a cache entry);
 * IPv6 results are cached by address (lru-cache), since the same clients validate again and again.
 */
import geoip from 'geoip-lite';
import { LRUCache } from 'lru-cache';

import { ipv4Value, scopeOfAddress } from '../abuse/address-scope.js';
import { formatIpAddress, parseIpAddress, type IpAddress } from '../abuse/ip-address.js';
import { installedIpv4CountryTable, type Ipv4CountryTable } from './ipv4-country-table.js';

/** A country (ISO 3166-1 alpha-2), or why there is none. */
export type AddressLocation =
  | { readonly kind: 'country'; readonly country: string }
  | { readonly kind: 'private' }
  | { readonly kind: 'unknown' };

const PRIVATE: AddressLocation = { kind: 'private' };
const UNKNOWN: AddressLocation = { kind: 'unknown' };

/** Options for {@link CountryLookup}. */
export interface CountryLookupOptions {
  /** IPv6 addresses kept in the cache. Default 100,000. */
  readonly maxEntries?: number;
}

/** One location object per country, so a lookup allocates none. */
const COUNTRIES = new Map<string, AddressLocation>();
function countryLocation(country: string): AddressLocation {
  let location = COUNTRIES.get(country);
  if (location === undefined) {
    location = { kind: 'country', country };
    COUNTRIES.set(country, location);
  }
  return location;
}

/** Country of an IP address, cached. */
export class CountryLookup {
  readonly #cache: LRUCache<string, AddressLocation>;
  readonly #ipv4: Ipv4CountryTable | null = installedIpv4CountryTable();

  constructor(options: CountryLookupOptions = {}) {
    this.#cache = new LRUCache({ max: options.maxEntries ?? 100_000 });
  }

  /** The location of `ip` (IPv4, IPv6 or IPv4-mapped IPv6). */
  locate(ip: string): AddressLocation {
    // Parsed once: the scope and both searches work on the parsed address.
    const address = parseIpAddress(ip);
    if (!address) return UNKNOWN;
    if (address.version === 4 && this.#ipv4 !== null) {
      if (scopeOfAddress(address) === 'private') return PRIVATE;
      const country = this.#ipv4.countryOf(ipv4Value(address.octets));
      return country === null ? UNKNOWN : countryLocation(country);
    }
    const cached = this.#cache.get(ip);
    if (cached) return cached;
    const location = lookup(address);
    this.#cache.set(ip, location);
    return location;
  }
}

/** geoip-lite's answer (it takes an IPv4 address as a number, which skips its own text parsing). */
function lookup(address: IpAddress): AddressLocation {
  if (scopeOfAddress(address) === 'private') return PRIVATE;
  const found = geoip.lookup(address.version === 4 ? ipv4Value(address.octets) : formatIpAddress(address));
  return found && found.country !== '' ? countryLocation(found.country) : UNKNOWN;
}
