/** Typed, prefixed, time-ordered ids (`lic_01J…`): ULIDs sort by creation, which cursors rely on. */
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** A new id with the given prefix, e.g. `newId('lic', now)` → `lic_01JD3…`. */
export function newId(prefix: string, now: Date): string {
  return `${prefix}_${next(now.getTime()).toLowerCase()}`;
}
