/**
 * IP address parsing for the abuse rules, without node:net (pure modules import no I/O module).
 * IPv4-mapped IPv6 addresses (`::ffff:198.51.100.7`) are read as the IPv4 address they carry,
 * so that a dual-stack server does not see one client as two.
 */

/** A parsed address: four octets, or eight 16-bit groups. */
export type IpAddress =
  | { readonly version: 4; readonly octets: readonly [number, number, number, number] }
  | { readonly version: 6; readonly groups: readonly number[] };

/** Dotted quad without leading zeros: `010.1.1.1` is octal to some parsers, so it is no address (as for node:net). */
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/**
 * Parses an IPv4 or IPv6 address in text form; `null` when it is neither. A zone (`%eth0`) is
 * dropped; IPv4-mapped IPv6 becomes IPv4.
 */
export function parseIpAddress(text: string): IpAddress | null {
  // Most addresses are plain dotted IPv4: read those without trimming, lower-casing or a regex.
  const quick = parseDottedQuad(text);
  if (quick) return quick;
  const input = text.trim().toLowerCase();
  const v4 = parseIpv4(input);
  if (v4) return v4;
  const groups = parseIpv6Groups(input.split('%')[0] ?? '');
  if (!groups) return null;
  // ::ffff:a.b.c.d (IPv4-mapped): the first 80 bits zero, then 0xffff.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return { version: 4, octets: [high >> 8, high & 0xff, low >> 8, low & 0xff] };
  }
  return { version: 6, groups };
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIpAddress(address: IpAddress): string {
  return address.version === 4 ? address.octets.join('.') : formatIpv6(address.groups);
}

/** Exactly `d.d.d.d` (1-3 digits each, at most 255), or null; other spellings go the long way. */
function parseDottedQuad(text: string): IpAddress | null {
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i += 1) {
    const code = i === text.length ? 46 : text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || value > 255 || octets.length === 4) return null;
      octets.push(value);
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      // A leading zero (`010`) is ambiguous (octal to some parsers): not an address.
      if (digits === 1 && value === 0) return null;
      value = value * 10 + (code - 48);
      digits += 1;
    } else {
      return null;
    }
  }
  return octets.length === 4 ? { version: 4, octets: octets as [number, number, number, number] } : null;
}

function parseIpv4(input: string): IpAddress | null {
  const match = IPV4.exec(input);
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return null;
  return { version: 4, octets: octets as unknown as [number, number, number, number] };
}

function parseIpv6Groups(input: string): number[] | null {
  if (input === '' || !input.includes(':')) return null;
  let text = input;
  // A dotted IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (!v4 || v4.version !== 4) return null;
    const [a, b, c, d] = v4.octets;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseHalf = (half: string): number[] | null => {
    if (half === '') return [];
    const parts = half.split(':');
    if (parts.some((part) => !HEX_GROUP.test(part))) return null;
    return parts.map((part) => parseInt(part, 16));
  };
  const head = parseHalf(halves[0] ?? '');
  const rest = halves.length === 2 ? parseHalf(halves[1] ?? '') : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length;
  if (halves.length === 1) return known === 8 ? head : null;
  if (known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
}

function formatIpv6(groups: readonly number[]): string {
  // Longest run of two or more zero groups, the first one on a tie (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
