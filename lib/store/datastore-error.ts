/** Datastore failures as Keyward errors: MongoDB status codes are read in this one place. */
import { KeywardError } from '../errors/keyward-error.js';

/** A unique index refused a write. */
export class DuplicateKeyError extends KeywardError<{ readonly index: string }> {
  override readonly name = 'DuplicateKeyError' as const;
  constructor(index: string, cause: unknown) {
    super('DUPLICATE_KEY', `A record with the same ${index} already exists.`, { context: { index }, cause });
  }
}

/** The datastore could not be reached or failed. */
export class DatastoreError extends KeywardError<{ readonly operation: string }> {
  override readonly name = 'DatastoreError' as const;
  constructor(operation: string, cause: unknown) {
    super('DATASTORE_UNAVAILABLE', `The datastore failed during ${operation}.`, { context: { operation }, cause });
  }
}

const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

/** Turns a driver error into a Keyward error: duplicate keys by index, everything else a DatastoreError. */
export function toDatastoreError(operation: string, error: unknown): KeywardError {
  if (error instanceof KeywardError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (typeof code === 'number' && DUPLICATE_KEY_CODES.has(code)) {
    const message = error instanceof Error ? error.message : '';
    const index = /index: (\S+)/.exec(message)?.[1] ?? 'key';
    return new DuplicateKeyError(index.replace(/_1$/, ''), error);
  }
  return new DatastoreError(operation, error);
}
