/** Building a successful transition: one place that bumps the version and writes the audit entry. */
import type { Cause } from './commands.js';
import type { License } from './license.js';
import type { LifecycleResult } from './outcome.js';

/** The new license (with `updatedAt` and `version` moved on) and its audit entry. */
export function transition(
  before: License,
  changes: Partial<Omit<License, 'id' | 'keyDigest' | 'createdAt' | 'updatedAt' | 'version'>>,
  command: string,
  cause: Cause | undefined,
  now: Date,
  details: Record<string, unknown> = {},
): LifecycleResult {
  const license: License = { ...before, ...changes, updatedAt: now, version: before.version + 1 };
  return {
    ok: true,
    license,
    audit: {
      licenseId: before.id,
      at: now,
      command,
      from: before.status,
      to: license.status,
      cause: cause ?? { actor: 'system' },
      details,
    },
  };
}
