/**
 * The client network an IP address belongs to, as the abuse detector groups key-guessing
 * evidence: one IPv4 /24 or one IPv6 /64 is usually one customer, one provider's NAT pool or one
 * hosting tenant, who can rotate addresses inside it at will. Pure: parses text, no lookups.
 */

/**
 * The network of `ip` in CIDR notation: `203.0.113.0/24` for IPv4, the RFC 5952 form of the
 * /64 for IPv6 (`2001:db8:1:2::/64`). IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`,
 * `::ffff:cb00:7107`), as dual-stack sockets report IPv4 clients, count as their IPv4 address.
 * A zone index (`fe80::1%eth0`) is ignored.
 *
 * Text that is not an IP address comes back unchanged, so that routing by network stays
 * deterministic whatever the server recorded.
 *
 * @param ip - An address as the server saw it.
 */
export function networkOf(ip: string): string {
  const v4 = parseIpv4(ip);
  if (v4 !== null) return ipv4Network(v4);
  const v6 = parseIpv6(ip);
  if (v6 === null) return ip;
  if (isIpv4Mapped(v6)) {
    return ipv4Network([v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff]);
  }
  return `${formatIpv6([v6[0]!, v6[1]!, v6[2]!, v6[3]!, 0, 0, 0, 0])}/64`;
}

function ipv4Network(octets: readonly number[]): string {
  return `${octets[0]}.${octets[1]}.${octets[2]}.0/24`;
}

/** `::ffff:0:0/96`. */
function isIpv4Mapped(hextets: readonly number[]): boolean {
  return hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
}

/** The four octets of a dotted-quad IPv4 address (no leading zeros, as Node reports them), or null. */
function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    octets.push(octet);
  }
  return octets;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and an IPv4 tail expanded), or null. */
function parseIpv6(input: string): number[] | null {
  const zone = input.indexOf('%');
  const text = zone === -1 ? input : input.slice(0, zone);
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Colon-separated groups; the last may be a dotted IPv4 tail when `lastMayBeIpv4`. */
function parseGroups(text: string, lastMayBeIpv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (lastMayBeIpv4 && index === parts.length - 1 && part.includes('.')) {
      const octets = parseIpv4(part);
      if (octets === null) return null;
      groups.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups (the first on a tie) as `::`. */
function formatIpv6(hextets: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < hextets.length; ) {
    if (hextets[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < hextets.length && hextets[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
