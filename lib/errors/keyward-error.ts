/**
 * The one small error hierarchy of Keyward. Errors are for faults (bad configuration, a
 * datastore that is down), never for decisions such as "this key is expired": those are values.
 */

/** Options shared by every Keyward error. */
export interface KeywardErrorOptions<Context extends object> {
  /** Machine-readable details that help the reader act on the error. */
  readonly context?: Context;
  /** The lower-level error that caused this one. */
  readonly cause?: unknown;
}

/** Base class: a stable `code`, a human message and typed context. */
export abstract class KeywardError<Context extends object = Record<string, unknown>> extends Error {
  abstract override readonly name: string;
  /** Stable, machine-readable code (SCREAMING_SNAKE_CASE). */
  readonly code: string;
  /** Typed details; empty when there are none. */
  readonly context: Context;

  constructor(code: string, message: string, options: KeywardErrorOptions<Context> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options.context ?? ({} as Context);
  }
}

/** Details of a configuration error: which field was wrong. */
export interface ConfigurationErrorContext {
  /** Dotted path of the offending field, e.g. `plans[1].limits.maxActivations`. */
  readonly field: string;
}

/** A configuration (options object, plan catalogue, key types, environment) is invalid. */
export class ConfigurationError extends KeywardError<ConfigurationErrorContext> {
  override readonly name = 'ConfigurationError' as const;

  constructor(field: string, message: string, cause?: unknown) {
    super('INVALID_CONFIGURATION', `${field}: ${message}`, { context: { field }, cause });
  }
}
