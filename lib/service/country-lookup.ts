/**
 * Where a client address is, for the geo-spread rule: geoip-lite's country, with private
 * and unknown addresses kept apart so they are never counted as a country. Results are cached
 * by address (lru-cache), since the same clients validate again and again.
 */
import geoip from 'geoip-lite';
import { LRUCache } from 'lru-cache';

import { ipv4Value, scopeOfAddress } from '../abuse/address-scope.js';
import { formatIpAddress, parseIpAddress } from '../abuse/ip-address.js';

/** A country (ISO 3166-1 alpha-2), or why there is none. */
export type AddressLocation =
  | { readonly kind: 'country'; readonly country: string }
  | { readonly kind: 'private' }
  | { readonly kind: 'unknown' };

const PRIVATE: AddressLocation = { kind: 'private' };
const UNKNOWN: AddressLocation = { kind: 'unknown' };

/** Options for {@link CountryLookup}. */
export interface CountryLookupOptions {
  /** Addresses kept in the cache. Default 100,000. */
  readonly maxEntries?: number;
}

/** Country of an IP address, cached. */
export class CountryLookup {
  readonly #cache: LRUCache<string, AddressLocation>;

  constructor(options: CountryLookupOptions = {}) {
    this.#cache = new LRUCache({ max: options.maxEntries ?? 100_000 });
  }

  /** The location of `ip` (IPv4, IPv6 or IPv4-mapped IPv6). */
  locate(ip: string): AddressLocation {
    const cached = this.#cache.get(ip);
    if (cached) return cached;
    const location = this.#lookup(ip);
    this.#cache.set(ip, location);
    return location;
  }

  #lookup(ip: string): AddressLocation {
    // Parsed once: the scope and geoip-lite's IPv4 search both work on the parsed address
    // (geoip-lite takes an IPv4 address as a number, which skips its own text parsing).
    const address = parseIpAddress(ip);
    if (!address) return UNKNOWN;
    if (scopeOfAddress(address) === 'private') return PRIVATE;
    const found = geoip.lookup(address.version === 4 ? ipv4Value(address.octets) : formatIpAddress(address));
    return found && found.country !== '' ? { kind: 'country', country: found.country } : UNKNOWN;
  }
}
