import { createHash } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { allStreamKeys, partitionOf, streamKeyFor } from '../../lib/events/stream-partition.js';
import {
  decodeValidationEvent,
  encodeValidationEvent,
  routingKeyOf,
  validationEventSchema,
  type ValidationEvent,
} from '../../lib/events/validation-event.js';
import { VALIDATION_CODES } from '../../lib/validation/validation-code.js';

const DIGEST = 'a'.repeat(64);

const validEvent: ValidationEvent = {
  at: Date.parse('2026-03-01T12:00:00.000Z'),
  licenseId: 'lic_01HZX3',
  keyDigest: DIGEST,
  ip: '203.0.113.7',
  origin: 'https://app.example.com',
  referer: null,
  domain: 'app.example.com',
  fingerprint: null,
  product: 'toolbox',
  userAgent: 'Toolbox/2.1 (Windows NT 10.0)',
  code: 'VALID',
};

const text = fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: null });

/** Any event that satisfies the contract, the cross-field rules included. */
const eventArbitrary: fc.Arbitrary<ValidationEvent> = fc
  .record({
    at: fc.maxSafeNat(),
    code: fc.constantFrom(...VALIDATION_CODES),
    licenseId: fc.string({ minLength: 1, maxLength: 30 }).map((id) => `lic_${id}`),
    keyDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex')),
    ip: fc.oneof(fc.ipV4(), fc.ipV6()),
    origin: text,
    referer: text,
    domain: text,
    fingerprint: text,
    product: text,
    userAgent: text,
    eid: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{16}$/), { nil: undefined }),
  })
  .map(({ eid, ...event }) => ({
    ...(eid === undefined ? {} : { eid }),
    ...event,
    licenseId: event.code === 'MALFORMED_KEY' || event.code === 'NOT_FOUND' ? null : event.licenseId,
    keyDigest: event.code === 'MALFORMED_KEY' ? null : event.keyDigest,
  }));

/** An entry as versions before the one-field form wrote it: one field per value, nulls left out. */
function flatFields(event: ValidationEvent): string[] {
  const fields = ['at', String(event.at), 'code', event.code, 'ip', event.ip];
  for (const name of ['licenseId', 'keyDigest', 'origin', 'referer', 'domain', 'fingerprint', 'product', 'userAgent'] as const) {
    const value = event[name];
    if (value !== null) fields.push(name, value);
  }
  if (event.eid !== undefined) fields.push('eid', event.eid);
  return fields;
}

/** An entry in the current form whose `e` array is `values`. */
function entryOf(values: readonly unknown[]): string[] {
  return ['e', JSON.stringify(values)];
}

/** Replaces the value of `field` in an encoded entry (adding the pair when absent). */
function withField(fields: readonly string[], field: string, value: string): string[] {
  const copy = [...fields];
  const index = copy.indexOf(field);
  if (index % 2 === 0) copy[index + 1] = value;
  else copy.push(field, value);
  return copy;
}

describe('validation event: encoding', () => {
  it('round-trips every valid event through encode and decode', () => {
    fc.assert(
      fc.property(eventArbitrary, (event) => {
        expect(validationEventSchema.safeParse(event).success).toBe(true);
        expect(decodeValidationEvent(encodeValidationEvent(event))).toEqual({ ok: true, event });
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes one field, e, holding the values as a JSON array in a fixed order', () => {
    expect(encodeValidationEvent({ ...validEvent, eid: 'q3Xr0k1vZ8mA2bPw' })).toEqual([
      'e',
      JSON.stringify([
        1772366400000,
        'VALID',
        '203.0.113.7',
        'lic_01HZX3',
        DIGEST,
        'https://app.example.com',
        null,
        'app.example.com',
        null,
        'toolbox',
        'Toolbox/2.1 (Windows NT 10.0)',
        'q3Xr0k1vZ8mA2bPw',
      ]),
    ]);
  });

  it('writes a null event id when the event has none yet, and reads it back without one', () => {
    const fields = encodeValidationEvent(validEvent);
    expect(JSON.parse(fields[1] as string)).toHaveLength(12);
    const decoded = decodeValidationEvent(fields);
    expect(decoded).toEqual({ ok: true, event: validEvent });
    expect(decoded.ok && 'eid' in decoded.event).toBe(false);
  });

  it('keeps an empty string apart from null', () => {
    const event = { ...validEvent, referer: '' };
    expect(decodeValidationEvent(encodeValidationEvent(event))).toEqual({ ok: true, event });
  });

  it('ignores values past the known positions and fields it does not know, so producers can add fields before consumers upgrade', () => {
    const values = JSON.parse(encodeValidationEvent(validEvent)[1] as string) as unknown[];
    expect(decodeValidationEvent(entryOf([...values, 'AS64496']))).toEqual({ ok: true, event: validEvent });
    expect(decodeValidationEvent([...encodeValidationEvent(validEvent), 'asn', '64496'])).toEqual({ ok: true, event: validEvent });
  });

  it('reads entries in the earlier flat form (one field per value), with and without an event id', () => {
    fc.assert(
      fc.property(eventArbitrary, (event) => {
        expect(decodeValidationEvent(flatFields(event))).toEqual({ ok: true, event });
      }),
      { numRuns: 1_000 },
    );
    expect(decodeValidationEvent(['asn', '64496', ...flatFields(validEvent)])).toEqual({ ok: true, event: validEvent });
  });
});

describe('validation event: bad entries in the one-field form are reported with a reason', () => {
  const values = JSON.parse(encodeValidationEvent({ ...validEvent, eid: 'q3Xr0k1vZ8mA2bPw' })[1] as string) as unknown[];
  const withValue = (position: number, value: unknown) => entryOf(values.map((item, i) => (i === position ? value : item)));
  const table: Array<[string, string[], RegExp]> = [
    ['not JSON', ['e', '[1772366400000,"VALID"'], /^e: is not JSON/],
    ['not an array', ['e', '{"at":1}'], /^e: must be a JSON array/],
    ['no time', entryOf([]), /^at: must be epoch milliseconds/],
    ['time as text', withValue(0, '1772366400000'), /^at: must be epoch milliseconds/],
    ['negative time', withValue(0, -5), /^at:/],
    ['fractional time', withValue(0, 1.5), /^at:/],
    ['time beyond safe integers', withValue(0, 2 ** 53), /^at:/],
    ['unknown code', withValue(1, 'MAYBE'), /^code:/],
    ['IP not a string', withValue(2, 7), /^ip: must be a string or null/],
    ['no IP', withValue(2, null), /^ip:/],
    ['digest not hex', withValue(4, 'Z'.repeat(64)), /^keyDigest: must be 64 lower-case hex/],
    ['event id not base64url', withValue(11, 'not an id!'), /^eid: must be 8-64 base64url characters/],
    ['VALID without a license', withValue(3, null), /^licenseId: is required for VALID/],
    ['NOT_FOUND with a license', withValue(1, 'NOT_FOUND'), /^licenseId: must be null for NOT_FOUND/],
    ['an odd list', ['e'], /odd number/],
  ];

  it.each(table)('%s', (_name, fields, reason) => {
    const result = decodeValidationEvent(fields);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(reason);
  });

  it('never throws, whatever the e field holds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.array(fc.jsonValue(), { maxLength: 14 }).map((items) => JSON.stringify(items))), (value) => {
        const result = decodeValidationEvent(['e', value]);
        if (result.ok) expect(validationEventSchema.safeParse(result.event).success).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('validation event: bad entries in the earlier flat form are reported with a reason, never thrown', () => {
  const encoded = flatFields(validEvent);
  const table: Array<[string, string[], RegExp]> = [
    ['odd number of items', encoded.slice(0, -1), /odd number/],
    ['no time', encoded.slice(2), /^at: is missing/],
    ['time not a number', withField(encoded, 'at', 'yesterday'), /^at: must be decimal epoch milliseconds/],
    ['time in exponent form', withField(encoded, 'at', '1e12'), /^at:/],
    ['negative time', withField(encoded, 'at', '-5'), /^at:/],
    ['time beyond safe integers', withField(encoded, 'at', '9007199254740993'), /^at:/],
    ['unknown code', withField(encoded, 'code', 'MAYBE'), /^code:/],
    ['no IP', encoded.filter((_, i) => i !== 4 && i !== 5), /^ip:/],
    ['empty IP', withField(encoded, 'ip', ''), /^ip: must not be empty/],
    ['digest not hex', withField(encoded, 'keyDigest', 'Z'.repeat(64)), /^keyDigest: must be 64 lower-case hex/],
    ['repeated field', [...encoded, 'ip', '198.51.100.1'], /^ip: appears more than once/],
    ['event id not base64url', [...encoded, 'eid', 'not an id!'], /^eid: must be 8-64 base64url characters/],
    ['VALID without a license', encoded.filter((_, i) => i !== 6 && i !== 7), /^licenseId: is required for VALID/],
    ['NOT_FOUND with a license', withField(encoded, 'code', 'NOT_FOUND'), /^licenseId: must be null for NOT_FOUND/],
    ['MALFORMED_KEY with a digest', withField(encoded, 'code', 'MALFORMED_KEY'), /^keyDigest: must be null for MALFORMED_KEY/],
    [
      'NOT_FOUND without a digest',
      ['at', '1', 'code', 'NOT_FOUND', 'ip', '203.0.113.7'],
      /^keyDigest: is required for NOT_FOUND/,
    ],
  ];

  it.each(table)('%s', (_name, fields, reason) => {
    const result = decodeValidationEvent(fields);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(reason);
  });

  it('never throws, whatever the list holds', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('at', 'code', 'ip', 'licenseId', 'keyDigest', '__proto__'))), (fields) => {
        const result = decodeValidationEvent(fields);
        if (result.ok) expect(validationEventSchema.safeParse(result.event).success).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('validation event: the fast decoder and the schema agree', () => {
  it('accepts exactly the entries whose fields the schema accepts', () => {
    const maybe = <T,>(values: readonly T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          at: maybe(['0', '1772366400000', '9007199254740991', '9007199254740992']),
          code: maybe(['VALID', 'NOT_FOUND', 'MALFORMED_KEY', 'REVOKED', 'valid', '']),
          ip: maybe(['203.0.113.7', '']),
          licenseId: maybe(['lic_1', '']),
          keyDigest: maybe([DIGEST, 'A'.repeat(64), 'a'.repeat(63), '']),
          eid: maybe(['q3Xr0k1vZ8mA2bPw', 'short', 'bad id!!', '']),
          origin: maybe(['', 'https://a.example']),
        }),
        (record) => {
          const fields = Object.entries(record).flatMap(([name, value]) => (value === undefined ? [] : [name, value]));
          const decoded = decodeValidationEvent(fields);
          const candidate: Record<string, unknown> = { ...Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) };
          if (record.at !== undefined) candidate['at'] = Number(record.at);
          for (const name of ['licenseId', 'keyDigest', 'origin', 'referer', 'domain', 'fingerprint', 'product', 'userAgent']) candidate[name] ??= null;
          const schema = validationEventSchema.safeParse(candidate);
          expect(decoded.ok).toBe(record.at !== undefined && schema.success);
          if (decoded.ok && schema.success) expect(decoded.event).toEqual(schema.data);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

describe('validation event: routing', () => {
  const notFound: ValidationEvent = { ...validEvent, code: 'NOT_FOUND', licenseId: null };
  const malformed: ValidationEvent = { ...validEvent, code: 'MALFORMED_KEY', licenseId: null, keyDigest: null };
  it.each([
    ['the license when there is one', validEvent, 'lic_01HZX3'],
    ['the license for a refusal that found one', { ...validEvent, code: 'REVOKED', ip: '2001:db8::1' }, 'lic_01HZX3'],
    ['the IPv4 /16 for NOT_FOUND', notFound, '203.0.0.0/16'],
    ['the IPv4 /16 for MALFORMED_KEY', malformed, '203.0.0.0/16'],
    ['the IPv6 /32 for NOT_FOUND', { ...notFound, ip: '2001:db8:1:2:aaaa::7' }, '2001:db8::/32'],
    ['the IPv4 /16 for an IPv4-mapped IPv6 client', { ...malformed, ip: '::ffff:198.51.100.23' }, '198.51.0.0/16'],
  ] as const)('routes by %s', (_name, event, key) => {
    expect(routingKeyOf(event)).toBe(key);
  });

  it('puts every key guess of one network group (/16) in one partition, whichever keys, /24s and addresses it tries', () => {
    const partitionsSeen = new Set<number>();
    for (let i = 0; i < 256; i += 1) {
      const digest = createHash('sha256').update(String(i)).digest('hex');
      partitionsSeen.add(partitionOf(routingKeyOf({ ...notFound, keyDigest: digest, ip: `203.0.${(i * 7) % 256}.${i}` }), 16));
    }
    expect(partitionsSeen.size).toBe(1);
  });
});

/** Redis Cluster's key slot: CRC16 (XMODEM) of the hash tag, or of the whole key without one, mod 16384. */
function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}

describe('stream partitioning', () => {
  it('names streams with the partition as a Redis Cluster hash tag', () => {
    expect(streamKeyFor(7)).toBe('keyward:events:{7}');
    expect(streamKeyFor(0, 'test:ev')).toBe('test:ev:{0}');
    expect(allStreamKeys(3, 'p')).toEqual(['p:{0}', 'p:{1}', 'p:{2}']);
  });

  it('puts each partition on the slot of its tag whatever the prefix, and the 16 partitions on 16 slots', () => {
    expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('{user1000}.followers')); // the check itself
    expect(clusterSlot('123456789')).toBe(0x31c3 % 16_384); // CRC16/XMODEM check value
    for (const key of allStreamKeys(16)) {
      expect(clusterSlot(key)).toBe(clusterSlot(key.replace('keyward:events', 'other:prefix')));
    }
    expect(new Set(allStreamKeys(16).map(clusterSlot)).size).toBe(16);
  });

  it('refuses prefixes and counts that would break the keys', () => {
    expect(() => streamKeyFor(1, 'a{b}')).toThrow(ConfigurationError);
    expect(() => streamKeyFor(1, '')).toThrow(ConfigurationError);
    expect(() => streamKeyFor(-1)).toThrow(ConfigurationError);
    expect(() => partitionOf('x', 0)).toThrow(ConfigurationError);
    expect(() => partitionOf('x', 2.5)).toThrow(ConfigurationError);
    expect(() => allStreamKeys(0)).toThrow(ConfigurationError);
  });

  it('hashes with FNV-1a 32-bit, so other languages can compute the same partition', () => {
    // Published FNV-1a test vectors; a modulus of 2^32 shows the raw hash.
    expect(partitionOf('', 2 ** 32)).toBe(0x811c9dc5);
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect(partitionOf('foobar', 2 ** 32)).toBe(0xbf9cf968);
  });

  it.each([
    ['lic_01HZX3', 8, 56],
    [DIGEST, 5, 5],
    ['203.0.113.7', 0, 32],
    ['2001:db8::1', 7, 7],
  ])('is stable: %s always goes to partition %i of 16 (%i of 64)', (key, of16, of64) => {
    // Pinned values: a change here would split keys' events over two partitions during a deploy.
    expect(partitionOf(key, 16)).toBe(of16);
    expect(partitionOf(key, 64)).toBe(of64);
  });

  it('always answers a partition in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1_024 }), (key, partitions) => {
        const partition = partitionOf(key, partitions);
        expect(Number.isInteger(partition)).toBe(true);
        expect(partition).toBeGreaterThanOrEqual(0);
        expect(partition).toBeLessThan(partitions);
      }),
    );
  });

  it.each([
    ['sequential license ids', (i: number) => `lic_${i}`],
    ['key digests', (i: number) => createHash('sha256').update(String(i)).digest('hex')],
    ['sequential IPv4 addresses', (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
  ])('spreads %s evenly over 16 partitions (each within 10% of its share)', (_name, keyAt) => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 32_000; i += 1) {
      const partition = partitionOf(keyAt(i), 16);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(2_000 * 0.9);
      expect(count).toBeLessThan(2_000 * 1.1);
    }
  });
});
