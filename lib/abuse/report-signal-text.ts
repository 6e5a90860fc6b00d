/**
 * One plain-language line per signal, for people reviewing a case: what was seen, in the words
 * an analyst would use ("used from 25 countries in one day: US, DE, BR …"), not the rule's field
 * names. Shared by the reports and the review console so both say the same thing.
 *
 * A kind this module does not know yet (a rule added later) still gets a readable line built
 * from its value, threshold and window, never an exception: the reader of a report is never
 * worse off for a new rule.
 */
import type { CountedValue } from './abuse-signal.js';

/** What a line is made from: a stored signal or a report's listing of one. */
export interface SignalFacts {
  /** A known {@link SignalKind} or any later kind. */
  readonly kind: string;
  readonly value: number;
  readonly threshold: number;
  readonly window?: { readonly start: Date; readonly end: Date };
  readonly evidence?: {
    readonly topIps?: readonly CountedValue[];
    readonly countries?: readonly CountedValue[];
    readonly referrers?: readonly CountedValue[];
    readonly fingerprints?: readonly CountedValue[];
    readonly networks?: readonly CountedValue[];
    readonly userAgents?: readonly CountedValue[];
    readonly linkedCustomers?: readonly { readonly customerId: string; readonly sharedBy: readonly string[] }[];
    readonly details?: Readonly<Record<string, string | number | boolean | null>>;
  };
}

/** Most countries, addresses or domains named in one line; the rest are counted ("… and 12 more"). */
export const NAMED_IN_LINE = 5;

const number = new Intl.NumberFormat('en-US');

/** `1600` → `1,600`; non-finite values as they are. */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? number.format(value) : String(value);
}

const plural = (count: number, one: string, many = `${one}s`): string => `${formatCount(count)} ${count === 1 ? one : many}`;

/** `US, DE, BR, FR, IT and 20 more`, from the first values of a top list. */
export function nameSome(values: readonly string[], total = values.length): string {
  const named = values.slice(0, NAMED_IN_LINE);
  const rest = Math.max(0, total - named.length);
  if (named.length === 0) return '';
  return rest > 0 ? `${named.join(', ')} and ${formatCount(rest)} more` : named.join(', ');
}

/** `in one hour`, `in one day`, `in 10 minutes`, from a window's length. */
export function describeWindow(window: { readonly start: Date; readonly end: Date } | undefined): string {
  if (!window) return '';
  const minutes = Math.round((window.end.getTime() - window.start.getTime()) / 60_000);
  if (minutes === 60) return 'in one hour';
  if (minutes === 1_440) return 'in one day';
  if (minutes > 0 && minutes < 60) return `in ${plural(minutes, 'minute')}`;
  if (minutes > 60 && minutes % 1_440 === 0) return `in ${formatCount(minutes / 1_440)} days`;
  if (minutes > 60 && minutes % 60 === 0) return `in ${formatCount(minutes / 60)} hours`;
  return minutes > 0 ? `in ${plural(minutes, 'minute')}` : '';
}

const numberDetail = (facts: SignalFacts, name: string): number | null => {
  const value = facts.evidence?.details?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

const join = (...parts: readonly string[]): string => parts.filter((part) => part !== '').join(' ');

/** The countries of a geo-spread signal, most frequent first, as their codes. */
export function countriesOf(facts: SignalFacts): string[] {
  return (facts.evidence?.countries ?? []).map(({ value }) => value);
}

/** The plain-language line of a signal. Never throws. */
export function describeSignal(facts: SignalFacts): string {
  const during = describeWindow(facts.window);
  const ips = facts.evidence?.topIps ?? [];
  switch (facts.kind) {
    case 'velocity': {
      const addresses = numberDetail(facts, 'distinctIps');
      return join(
        `${plural(facts.value, 'validation')} ${during}`.trim(),
        addresses === null ? '' : `from ${plural(addresses, 'address', 'addresses')}`,
        `(more than ${formatCount(facts.threshold)} is unusual).`,
      );
    }
    case 'geo_spread': {
      const countries = countriesOf(facts);
      const listed = nameSome(countries, Math.max(countries.length, facts.value));
      return join(`Used from ${plural(facts.value, 'country', 'countries')}`, during ? `${during}${listed ? ':' : ''}` : listed ? ':' : '', listed, `(${formatCount(facts.threshold)} or more is unusual).`);
    }
    case 'domain_spoofing': {
      const hosts = (facts.evidence?.referrers ?? []).map(({ value }) => value);
      const named = nameSome(hosts);
      return join(
        `${plural(facts.value, 'request')} ${during}`.trim(),
        'came from web sites the license does not cover',
        named ? `(${named})` : '',
      ).concat('.');
    }
    case 'trial_cycling': {
      const linked = facts.evidence?.linkedCustomers ?? [];
      const shared = [...new Set(linked.flatMap(({ sharedBy }) => sharedBy))].sort();
      return join(
        `A new trial shares`,
        shared.length > 0 ? shared.join(', ') : 'details',
        `with ${plural(Math.max(facts.value, linked.length), 'earlier trial')}`,
        linked.length > 0 ? `(${nameSome(linked.map(({ customerId }) => customerId))})` : '',
      ).concat('.');
    }
    case 'key_guessing': {
      const addresses = numberDetail(facts, 'distinctIps');
      return join(
        `${plural(facts.value, 'unknown or malformed key', 'unknown or malformed keys')} tried ${during}`.trim(),
        addresses === null ? '' : `from ${plural(addresses, 'address', 'addresses')}`,
        `(${formatCount(facts.threshold)} or more is unusual).`,
      );
    }
    case 'distributed_key_guessing': {
      const misses = numberDetail(facts, 'misses');
      const networks = (facts.evidence?.networks ?? []).map(({ value }) => value);
      const agents = (facts.evidence?.userAgents ?? []).map(({ value }) => value);
      return join(
        misses === null ? 'Unknown or malformed keys tried' : `${plural(misses, 'unknown or malformed key', 'unknown or malformed keys')} tried`,
        during,
        `from ${plural(facts.value, 'network')} of one provider block, a few each`,
        networks.length > 0 ? `(${nameSome(networks, Math.max(networks.length, facts.value))})` : '',
        agents.length > 0 ? `by ${nameSome(agents.map((agent) => `"${agent}"`))}` : '',
        `(${formatCount(facts.threshold)} networks or more is a sweep).`,
      );
    }
    case 'payment_dispute':
      return 'The customer disputed a payment for this license with their bank.';
    default: {
      // A rule this version does not describe yet: say what it measured, in its own name.
      const name = facts.kind.replace(/[_-]+/g, ' ').trim() || 'unnamed rule';
      return join(
        `Rule "${name}" measured ${formatCount(facts.value)} ${during}`.trim(),
        `against a threshold of ${formatCount(facts.threshold)}`,
        ips.length > 0 ? `(top addresses: ${nameSome(ips.map(({ value }) => value))})` : '',
      ).concat('.');
    }
  }
}

/** A short human name of a signal kind, e.g. `geo_spread` → `Geo spread`. Unknown kinds are tidied, not refused. */
export function kindLabel(kind: string): string {
  const known: Readonly<Record<string, string>> = {
    velocity: 'Velocity',
    geo_spread: 'Geo spread',
    domain_spoofing: 'Domain spoofing',
    trial_cycling: 'Trial cycling',
    key_guessing: 'Key guessing',
    payment_dispute: 'Payment dispute',
    seat_sharing: 'Seat sharing',
    distributed_key_guessing: 'Distributed key guessing',
  };
  const label = known[kind];
  if (label !== undefined) return label;
  const words = kind.replace(/[_-]+/g, ' ').trim();
  return words === '' ? 'Unnamed rule' : words.charAt(0).toUpperCase() + words.slice(1);
}
