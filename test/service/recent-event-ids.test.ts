import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { RecentEventIds } from '../../lib/service/recent-event-ids.js';
import { streamEntries, validationEvent } from '../support/abuse-events.js';

const entries = (eids: readonly (string | undefined)[]) =>
  streamEntries(eids.map((eid, i) => validationEvent('lic_1', 1_772_442_000_000 + i, eid === undefined ? {} : { eid })));

describe('RecentEventIds', () => {
  it('drops an event appended twice, in the same batch or in a later one, and keeps events without an id', () => {
    const recent = new RecentEventIds();
    const first = entries(['aaaaaaaa', 'bbbbbbbb', 'aaaaaaaa', undefined, undefined]);
    const fresh = recent.fresh(first);
    expect(fresh.map(({ event }) => event.eid)).toEqual(['aaaaaaaa', 'bbbbbbbb', undefined, undefined]);
    recent.remember(fresh);
    expect(recent.fresh(entries(['bbbbbbbb', 'cccccccc'])).map(({ event }) => event.eid)).toEqual(['cccccccc']);
  });

  it('returns the batch itself when nothing repeats (no copy per batch)', () => {
    const recent = new RecentEventIds();
    const batch = entries(['aaaaaaaa', 'bbbbbbbb']);
    expect(recent.fresh(batch)).toBe(batch);
  });

  it('always remembers the latest maxIds / 2 ids and never more than maxIds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 0, max: 200 }), (maxIds, count) => {
        const recent = new RecentEventIds({ maxIds });
        const ids = Array.from({ length: count }, (_, i) => `event-${String(i).padStart(4, '0')}`);
        for (const id of ids) recent.remember(entries([id]));
        const remembered = ids.filter((id) => recent.has(id));
        expect(remembered.length).toBeLessThanOrEqual(maxIds);
        // The remembered ones are the latest, at least maxIds / 2 of them.
        expect(remembered).toEqual(ids.slice(ids.length - remembered.length));
        expect(remembered.length).toBeGreaterThanOrEqual(Math.min(count, Math.floor(maxIds / 2)));
      }),
    );
  });

  it('refuses a size that cannot remember anything', () => {
    expect(() => new RecentEventIds({ maxIds: 1 })).toThrow(/maxIds must be an integer of at least 2/);
  });
});
