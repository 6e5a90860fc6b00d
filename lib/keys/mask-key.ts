/** Display form of a key that shows only its prefix and last group. */
import { DEFAULT_GROUPS } from './key-type.js';

/** Options for {@link maskKey}. */
export interface MaskKeyOptions {
  /** Body groups of the key (the trailing groups). Default 4. */
  readonly groups?: number;
  /** Character shown in place of each hidden symbol. Default `*`. */
  readonly mask?: string;
}

/**
 * Masks a canonical key for display: `TO-T-A3F2-B891-C4D7-E05Q` becomes
 * `TO-T-****-****-****-E05Q`. The prefix and the last group stay readable.
 */
export function maskKey(key: string, options: MaskKeyOptions = {}): string {
  const groups = options.groups ?? DEFAULT_GROUPS;
  const mask = options.mask ?? '*';
  const segments = key.split('-');
  const firstBody = Math.max(0, segments.length - groups);
  return segments
    .map((segment, i) => (i >= firstBody && i < segments.length - 1 ? mask.repeat(segment.length) : segment))
    .join('-');
}
