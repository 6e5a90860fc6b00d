import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { PartitionBuffer } from '../../../server/events/partition-buffer.js';

/** The values a head holds, in order. */
function valuesOf(head: Buffer): string[] {
  const text = head.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('PartitionBuffer', () => {
  it('gives its first events back as bytes, each followed by a newline, oldest first', () => {
    const buffer = new PartitionBuffer(1 << 20);
    for (const value of ['["a",1]', '["b",2]', '["c",3]']) expect(buffer.push(value)).toBe(true);

    expect(buffer.count).toBe(3);
    expect(buffer.head(2).toString('utf8')).toBe('["a",1]\n["b",2]\n');
    expect(valuesOf(buffer.head(3))).toEqual(['["a",1]', '["b",2]', '["c",3]']);
  });

  it('drops events from the head and keeps the later ones, including those pushed after the head was taken', () => {
    const buffer = new PartitionBuffer(1 << 20);
    buffer.push('one');
    buffer.push('two');
    const head = buffer.head(2);
    buffer.push('three');
    expect(valuesOf(head)).toEqual(['one', 'two']);
    buffer.drop(2);

    expect(buffer.count).toBe(1);
    expect(buffer.byteLength).toBe('three\n'.length);
    expect(valuesOf(buffer.head(1))).toEqual(['three']);
  });

  it('leaves a head it gave out unchanged when later pushes make it grow', () => {
    const buffer = new PartitionBuffer(1 << 24);
    buffer.push('first');
    const head = buffer.head(1);
    for (let i = 0; i < 5_000; i += 1) buffer.push(`event ${i} ${'x'.repeat(40)}`);

    expect(head.toString('utf8')).toBe('first\n');
    expect(buffer.count).toBe(5_001);
    expect(valuesOf(buffer.head(5_001)).at(-1)).toBe(`event 4999 ${'x'.repeat(40)}`);
  });

  it('keeps text of any script: multi-byte UTF-8 and surrogate pairs', () => {
    const buffer = new PartitionBuffer(1 << 20);
    const values = ['Grüße', '東京 ライセンス', 'emoji 🔑🔒', '\u00e9'.repeat(100)];
    values.forEach((value) => buffer.push(value));

    expect(valuesOf(buffer.head(values.length))).toEqual(values);
    expect(buffer.byteLength).toBe(values.reduce((sum, value) => sum + Buffer.byteLength(value) + 1, 0));
  });

  it('refuses a value that would take it beyond its byte limit, and stays as it was', () => {
    const buffer = new PartitionBuffer(100);
    expect(buffer.push('a'.repeat(60))).toBe(true);
    expect(buffer.push('b'.repeat(60))).toBe(false);

    expect(buffer.count).toBe(1);
    expect(valuesOf(buffer.head(1))).toEqual(['a'.repeat(60)]);
    // Exactly full is allowed: the limit counts bytes, not the worst case of 3 per character.
    expect(buffer.push('c'.repeat(38))).toBe(true);
    expect(buffer.byteLength).toBe(100);
  });

  it('is empty again, and takes new events, after everything is dropped (a backlog gives its memory back)', () => {
    const buffer = new PartitionBuffer(1 << 26);
    for (let i = 0; i < 20_000; i += 1) buffer.push(`backlog ${i} ${'y'.repeat(100)}`);
    buffer.drop(buffer.count);

    expect(buffer.count).toBe(0);
    expect(buffer.byteLength).toBe(0);
    buffer.push('after');
    expect(valuesOf(buffer.head(1))).toEqual(['after']);
  });

  it('holds, for any pushes and drops, exactly the values pushed and not yet dropped', () => {
    const operation = fc.oneof(
      fc.record({ push: fc.string({ unit: 'grapheme', maxLength: 300 }).map((text) => text.replaceAll('\n', ' ')) }),
      fc.record({ drop: fc.nat({ max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const buffer = new PartitionBuffer(1 << 24);
        const expected: string[] = [];
        for (const step of operations) {
          if ('push' in step) {
            buffer.push(step.push);
            expected.push(step.push);
          } else {
            const count = Math.min(step.drop, expected.length);
            buffer.drop(count);
            expected.splice(0, count);
          }
        }
        expect(buffer.count).toBe(expected.length);
        if (expected.length > 0) expect(buffer.head(expected.length).toString('utf8')).toBe(`${expected.join('\n')}\n`);
      }),
    );
  });
});
