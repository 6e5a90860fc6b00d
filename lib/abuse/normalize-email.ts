/**
 * E-mail normalisation for trial cycling: the forms of one mailbox that a provider delivers to
 * the same inbox map to one string, so `J.Doe+trial3@gmail.com` meets `jdoe@googlemail.com`.
 */

/** Providers that ignore dots in the local part (and accept +tags); the value is the canonical domain. */
const DOT_BLIND_DOMAINS: Readonly<Record<string, string>> = {
  'gmail.com': 'gmail.com',
  'googlemail.com': 'gmail.com',
};

/** Providers that use `-` rather than `+` for sub-addresses. */
const DASH_TAG_DOMAINS: ReadonlySet<string> = new Set(['yahoo.com', 'ymail.com', 'rocketmail.com']);

/**
 * The normalised address: lower case, trimmed, with the sub-address tag removed (`+tag`, or
 * `-tag` for Yahoo) and, for Gmail and Googlemail, dots removed and the domain unified.
 * `null` when the input is not an address (no single `@`, or an empty part).
 */
export function normalizeEmail(email: string): string | null {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1 || address.indexOf('@') !== at) return null;
  let local = address.slice(0, at);
  let domain = address.slice(at + 1).replace(/\.$/, '');
  const tagSeparator = DASH_TAG_DOMAINS.has(domain) ? '-' : '+';
  const tagAt = local.indexOf(tagSeparator);
  if (tagAt === 0) return null;
  if (tagAt > 0) local = local.slice(0, tagAt);
  const canonical = DOT_BLIND_DOMAINS[domain];
  if (canonical !== undefined) {
    local = local.replaceAll('.', '');
    domain = canonical;
  }
  return local === '' ? null : `${local}@${domain}`;
}
