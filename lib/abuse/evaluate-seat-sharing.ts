/**
 * Seat sharing: a license used from more machines than it has seats. On a machine-bound plan a
 * validation from a machine without a seat is answered NOT_ACTIVATED, so the machines answered
 * NOT_ACTIVATED in a window are machines beyond the seats sold. A customer replacing a laptop,
 * or reinstalling before activating again, shows one or two; a key handed around shows many.
 */
import { flagged, NOT_FLAGGED, type SignalVerdict } from './signal-verdict.js';

/** One license's machines without a seat over one window (24 hours). */
export interface SeatWindow {
  /** The plan's seats (`maxActivations`); `null` when the plan binds no machines (rule off). */
  readonly seats: number | null;
  /** Distinct machine fingerprints answered NOT_ACTIVATED. */
  readonly unseatedMachines: number;
}

/**
 * Machines without a seat a license may show in a day before it is flagged, scaled by its
 * seats: at least 2 (one machine being replaced, one reinstalled), and half the seats for larger
 * plans (a 25-seat team rolls out new machines in batches).
 */
export function unseatedMachinesAllowed(seats: number): number {
  return Math.max(2, Math.ceil(seats / 2));
}

/** Flags more unseated machines than {@link unseatedMachinesAllowed}; the value is their number. */
export function evaluateSeatSharing(window: SeatWindow): SignalVerdict {
  if (window.seats === null) return NOT_FLAGGED;
  const allowed = unseatedMachinesAllowed(window.seats);
  if (window.unseatedMachines <= allowed) return NOT_FLAGGED;
  return flagged(window.unseatedMachines, allowed, 35);
}
