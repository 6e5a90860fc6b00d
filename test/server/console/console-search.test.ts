/**
 * The queue's search and the console's cookie reading, as properties: a key typed in any of the
 * forms parseKey forgives finds its license by the masked key (the key itself is never compared
 * or kept); a search matches only rows that hold it; cookies read back as they were set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { AbuseCase } from '../../../lib/abuse/abuse-case.js';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { maskKey } from '../../../lib/keys/mask-key.js';
import type { LicenseRecord } from '../../../lib/store/license-record.js';
import { constantTimeEqual, readCookies } from '../../../server/console/console-auth.js';
import { matchesSearch, searchNeedle, type QueueRow } from '../../../server/console/console-data.js';

function rowOf(key: string, customerId: string, email: string): QueueRow {
  const licenseId = 'lic_01m8zqjrxmmyw4masvhd6kqwe3';
  return {
    found: { id: `case_${licenseId}`, subject: { type: 'license', licenseId } } as AbuseCase,
    license: { keyMask: maskKey(key), license: { id: licenseId, customerId } } as unknown as LicenseRecord,
    email,
  };
}

describe('queue search', () => {
  it('finds a license from its full key however it is typed (case, spaces, dashes)', () => {
    fc.assert(
      fc.property(fc.constantFrom('TO', 'TO-T'), fc.boolean(), fc.boolean(), (prefix, lower, spaced) => {
        const key = generateKey({ prefix });
        let typed = lower ? key.toLowerCase() : key;
        if (spaced) typed = ` ${typed.replaceAll('-', ' ')} `;
        expect(searchNeedle(typed)).toBe(maskKey(key).toLowerCase());
        expect(matchesSearch(rowOf(key, 'cus_1', 'a@example.com'), searchNeedle(typed))).toBe(true);
        // Another key with another last group does not match.
        const other = generateKey({ prefix });
        if (other.slice(-4) !== key.slice(-4)) expect(matchesSearch(rowOf(other, 'cus_1', 'a@example.com'), searchNeedle(typed))).toBe(false);
      }),
    );
  });

  it('matches a row exactly when one of its fields holds the needle (case-insensitive)', () => {
    const field = fc.stringMatching(/^[a-z0-9@._-]{3,20}$/);
    fc.assert(
      fc.property(field, field, field, (customerId, email, needle) => {
        const row = rowOf(generateKey(), `cus_${customerId}`, email);
        const fields = [row.found.id, 'lic_01m8zqjrxmmyw4masvhd6kqwe3', `cus_${customerId}`, email, row.license?.keyMask ?? ''].map((text) => text.toLowerCase());
        expect(matchesSearch(row, searchNeedle(needle))).toBe(fields.some((text) => text.includes(searchNeedle(needle))));
        expect(matchesSearch(row, searchNeedle(email.toUpperCase()))).toBe(true);
      }),
    );
  });
});

describe('cookies', () => {
  it('read back as set, the first of a repeated name winning, whatever else the header holds', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_-]{0,43}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 8 }), (pairs) => {
        const header = [...pairs, ...pairs.map(([n]) => [n, 'later'] as const)].map(([n, v]) => `${n}=${v}`).join('; ');
        const cookies = readCookies(header);
        for (const [n, v] of pairs) expect(cookies.get(n)).toBe(v);
      }),
    );
  });

  it('compares tokens in constant time, and never matches an empty token', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b && a !== '');
        expect(constantTimeEqual(a, a)).toBe(a !== '');
      }),
    );
  });
});
