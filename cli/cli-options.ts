/**
 * Parsers of option values for commander: a bad value is a usage error (exit 2) reported by
 * commander with the option's name, before any connection is made.
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

/** An integer in `min..max`. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    }
    return number;
  };
}

/** An ISO 8601 date-time with its offset, e.g. `2027-01-31T00:00:00Z`. */
export function isoDateTime(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('must be an ISO 8601 date-time with an offset, e.g. 2027-01-31T00:00:00Z.');
  }
  return date;
}

/** A comma-separated list of non-empty items. */
export function commaList(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new InvalidArgumentError('must be a comma-separated list, e.g. act_1,act_2.');
  return items;
}

const address = z.email().max(254);

/** One e-mail address, e.g. `ada@example.com`. */
export function emailAddress(value: string): string {
  if (!address.safeParse(value).success) throw new InvalidArgumentError('must be one e-mail address, e.g. ada@example.com.');
  return value;
}
