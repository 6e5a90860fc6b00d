/**
 * The validation event contract: one Redis stream entry per validation, valid or not
 * (design.md, Events and abuse detection). The server encodes, the abuse workers decode; both go
 * through this module so that the two sides cannot drift apart.
 *
 * Wire format: one field, `e`, whose value is a JSON array of the event's values in a fixed order
 * (see {@link encodeValidationEventValue}): `XADD <stream> * e '[1772366400000,"VALID",…]'`.
 * One field rather than one per value because the server appends an entry on every validation:
 * 2 arguments instead of ~26 per entry measurably cut the validate route's CPU (the client
 * library's work per argument), Redis's work per XADD, and the workers' reply parsing.
 * Null stays null and the empty string stays a real value.
 *
 * Entries written by earlier versions (a flat field/value list: `at`, `code`, `ip`, … with null
 * fields left out) are still decoded, so a stream can be upgraded while it holds them.
 */
import { z } from 'zod';

import { networkGroupOf } from '../abuse/network-of.js';
import { VALIDATION_CODES, type ValidationCode } from '../validation/validation-code.js';
import { EVENT_ID_PATTERN } from './new-event-id.js';

/** One validation, as recorded for abuse detection. */
export interface ValidationEvent {
  /**
   * The event's identity (see new-event-id.ts), given once before delivery: two stream entries
   * with the same `eid` are one validation appended twice (a batch retried after a lost reply),
   * which consumers count once. Absent on events not yet handed to a sink, and on entries written
   * before event ids existed (consumers then fall back to the stream entry id).
   */
  readonly eid?: string;
  /** When the server answered, in epoch milliseconds. */
  readonly at: number;
  /**
   * The license the key belongs to. Null exactly when there is none: MALFORMED_KEY and NOT_FOUND.
   * Set for every other code, PRODUCT_MISMATCH included (the answer hides the license from the
   * client, but the event must still be routed and counted by it).
   */
  readonly licenseId: string | null;
  /** HMAC-SHA256 of the canonical key, 64 lower-case hex characters; null only for MALFORMED_KEY. */
  readonly keyDigest: string | null;
  /** Client IP as the server saw it (after trusted-proxy handling). */
  readonly ip: string;
  /** `Origin` request header. */
  readonly origin: string | null;
  /** `Referer` request header. */
  readonly referer: string | null;
  /** The domain the request claims to run on (request body). */
  readonly domain: string | null;
  /** The machine fingerprint the request claims (request body). */
  readonly fingerprint: string | null;
  /** The product the request claims (request body). */
  readonly product: string | null;
  /** `User-Agent` request header. */
  readonly userAgent: string | null;
  /** The answer given. */
  readonly code: ValidationCode;
}

/** Codes for which no license was found, so `licenseId` is null. */
const LICENSE_LESS_CODES: ReadonlySet<ValidationCode> = new Set(['MALFORMED_KEY', 'NOT_FOUND']);

const optionalText = z.string().nullable();

/**
 * Schema of a {@link ValidationEvent}, with the cross-field rules: `keyDigest` is null exactly
 * for MALFORMED_KEY, and `licenseId` is null exactly for MALFORMED_KEY and NOT_FOUND.
 */
export const validationEventSchema: z.ZodType<ValidationEvent> = z
  .object({
    eid: z.string().regex(EVENT_ID_PATTERN, 'must be 8-64 base64url characters').exactOptional(),
    at: z.number().int('must be an integer').nonnegative('must not be negative').max(Number.MAX_SAFE_INTEGER),
    licenseId: z.string().min(1, 'must not be empty').nullable(),
    // Same shape as lib/keys/key-digest.ts produces.
    keyDigest: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters')
      .nullable(),
    ip: z.string().min(1, 'must not be empty'),
    origin: optionalText,
    referer: optionalText,
    domain: optionalText,
    fingerprint: optionalText,
    product: optionalText,
    userAgent: optionalText,
    code: z.enum(VALIDATION_CODES),
  })
  .strict()
  .superRefine((event, context) => {
    const malformed = event.code === 'MALFORMED_KEY';
    if (malformed !== (event.keyDigest === null)) {
      context.addIssue({
        code: 'custom',
        path: ['keyDigest'],
        message: malformed ? 'must be null for MALFORMED_KEY' : `is required for ${event.code}`,
      });
    }
    const licenseLess = LICENSE_LESS_CODES.has(event.code);
    if (licenseLess !== (event.licenseId === null)) {
      context.addIssue({
        code: 'custom',
        path: ['licenseId'],
        message: licenseLess ? `must be null for ${event.code}` : `is required for ${event.code}`,
      });
    }
  });

/** The fields that may be null, hence absent from an entry. */
const NULLABLE_FIELDS = ['licenseId', 'keyDigest', 'origin', 'referer', 'domain', 'fingerprint', 'product', 'userAgent'] as const;

/** Every field of the earlier flat wire format, in the order it was written. */
const FIELDS: readonly (keyof ValidationEvent)[] = ['at', 'code', 'ip', ...NULLABLE_FIELDS, 'eid'];
const KNOWN_FIELDS: ReadonlySet<string> = new Set(FIELDS);

/** The one field of an entry in the current wire format. */
export const EVENT_FIELD = 'e';

/**
 * Positions of the values in the `e` array. New fields are only ever appended, so that a consumer
 * reading an entry from a newer producer ignores what it does not know.
 */
const POSITIONS = ['at', 'code', 'ip', 'licenseId', 'keyDigest', 'origin', 'referer', 'domain', 'fingerprint', 'product', 'userAgent', 'eid'] as const;

/**
 * The value of an entry's `e` field: the event as a JSON array in {@link POSITIONS} order (`at` a
 * number, absent strings null, the event id last and null when not given yet).
 * Does not validate: the type is the check on the hot path, and workers validate on decode.
 */
export function encodeValidationEventValue(event: ValidationEvent): string {
  return JSON.stringify([
    event.at,
    event.code,
    event.ip,
    event.licenseId,
    event.keyDigest,
    event.origin,
    event.referer,
    event.domain,
    event.fingerprint,
    event.product,
    event.userAgent,
    event.eid ?? null,
  ]);
}

/** An event as the field/value list XADD takes: `['e', <value>]`. */
export function encodeValidationEvent(event: ValidationEvent): string[] {
  return [EVENT_FIELD, encodeValidationEventValue(event)];
}

/** What {@link decodeValidationEvent} found: the event, or why the entry is not one. */
export type DecodeValidationEventResult =
  | { readonly ok: true; readonly event: ValidationEvent }
  | { readonly ok: false; readonly error: string };

/**
 * Decodes a stream entry's field/value list (as XRANGE or XREADGROUP return it). A bad entry is
 * reported, never thrown, so that a worker can record it as poison and move on.
 *
 * Reads the current one-field form and the earlier flat form. What this version does not know is
 * ignored (other fields, values past the known positions): producers can then add a field before
 * every consumer has been upgraded to read it.
 */
export function decodeValidationEvent(fields: readonly string[]): DecodeValidationEventResult {
  if (fields.length % 2 !== 0) return { ok: false, error: `odd number of field/value items (${fields.length})` };
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === EVENT_FIELD) return decodeValue(fields[i + 1] as string);
  }
  return decodeFlat(fields);
}

/** Decodes the value of an `e` field. */
function decodeValue(value: string): DecodeValidationEventResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, error: 'e: is not JSON' };
  }
  if (!Array.isArray(parsed)) return { ok: false, error: 'e: must be a JSON array' };
  const at: unknown = parsed[0];
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) return { ok: false, error: `at: must be epoch milliseconds, got ${JSON.stringify(at)}` };
  const raw: Record<string, string> = {};
  for (let position = 1; position < POSITIONS.length; position += 1) {
    const item: unknown = parsed[position];
    const name = POSITIONS[position] as string;
    if (typeof item === 'string') raw[name] = item;
    else if (item !== null && item !== undefined) return { ok: false, error: `${name}: must be a string or null` };
  }
  return checked(raw, at);
}

/** Decodes an entry in the earlier flat form (one field per value, null fields left out). */
function decodeFlat(fields: readonly string[]): DecodeValidationEventResult {
  const raw: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (!KNOWN_FIELDS.has(name)) continue;
    if (Object.hasOwn(raw, name)) return { ok: false, error: `${name}: appears more than once` };
    raw[name] = value;
  }

  const at = raw.at;
  if (at === undefined) return { ok: false, error: 'at: is missing' };
  // Digits only: Number() would also accept '', ' 1', '0x10' and '1e3'.
  if (!/^(0|[1-9][0-9]{0,15})$/.test(at)) return { ok: false, error: `at: must be decimal epoch milliseconds, got "${at}"` };
  return checked(raw, Number(at));
}

/** The event when `raw` and `at` make a valid one, else the first reason they do not. */
function checked(raw: Readonly<Record<string, string>>, at: number): DecodeValidationEventResult {
  const fast = buildIfValid(raw, at);
  if (fast !== null) return { ok: true, event: fast };

  // The slow path, for the reason: the schema is the specification, buildIfValid its fast twin.
  const candidate: Record<string, unknown> = { ...raw, at };
  for (const name of NULLABLE_FIELDS) candidate[name] ??= null;

  const parsed = validationEventSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, event: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'event';
  return { ok: false, error: `${field}: ${issue?.message ?? 'is invalid'}` };
}

const CODES: ReadonlySet<string> = new Set(VALIDATION_CODES);
const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The event when `raw` satisfies {@link validationEventSchema}, else null: the same rules
 * checked by hand, since the schema costs ~19 µs an entry and workers decode tens of thousands
 * of entries per second. A test holds the two to the same verdicts.
 */
function buildIfValid(raw: Readonly<Record<string, string>>, at: number): ValidationEvent | null {
  const { code, ip, eid } = raw;
  const licenseId = raw.licenseId ?? null;
  const keyDigest = raw.keyDigest ?? null;
  if (code === undefined || !CODES.has(code) || ip === undefined || ip === '') return null;
  if (at > Number.MAX_SAFE_INTEGER || licenseId === '') return null;
  if (keyDigest !== null && !DIGEST_PATTERN.test(keyDigest)) return null;
  if (eid !== undefined && !EVENT_ID_PATTERN.test(eid)) return null;
  const validationCode = code as ValidationCode;
  if ((validationCode === 'MALFORMED_KEY') !== (keyDigest === null)) return null;
  if (LICENSE_LESS_CODES.has(validationCode) !== (licenseId === null)) return null;
  const event = {
    at,
    licenseId,
    keyDigest,
    ip,
    origin: raw.origin ?? null,
    referer: raw.referer ?? null,
    domain: raw.domain ?? null,
    fingerprint: raw.fingerprint ?? null,
    product: raw.product ?? null,
    userAgent: raw.userAgent ?? null,
    code: validationCode,
  };
  return eid === undefined ? event : { eid, ...event };
}

/**
 * The key an event is partitioned by: its license; for the license-less codes (NOT_FOUND,
 * MALFORMED_KEY) the client's network group (IPv4 /16, IPv6 /32; see lib/abuse/network-of.ts).
 * So all the events of one license land in one stream partition, and so does all the
 * key-guessing evidence of one network group, whatever keys and /24s (or /64s) inside it try:
 * the state of a network (key guessing) and of its group (distributed key guessing) can then
 * live under its partition's hash tag (`…:{n}:…`) and stay on one Redis Cluster slot.
 */
export function routingKeyOf(event: ValidationEvent): string {
  return event.licenseId ?? networkGroupOf(event.ip);
}
