/**
 * One stream partition's buffered events, oldest first, as bytes: each event's `e` value
 * (lib/events/validation-event.ts) in UTF-8 followed by a newline, all in one growing Buffer,
 * with each event's end offset in a typed array. The event sink (redis-stream-event-sink.ts)
 * sends a partition's head as one script argument, so a buffered event costs no JavaScript
 * object at all.
 *
 * Why: an object (or a Buffer) per event lives from its validation until Redis acknowledges it,
 * 25 ms or more, long enough to be copied by the young-generation collector and often promoted
 * to the old generation. At 9,000 validations/s that was the largest part of what each scavenge
 * promoted (measured with --trace-gc-nvp; docs/benchmarks.md).
 */

/** Bytes a partition starts with, once it gets its first event. */
const INITIAL_BYTES = 16 * 1024;
/** Events whose end offsets fit before the offset array grows. */
const INITIAL_EVENTS = 64;
/** An empty partition holding more than this many bytes gives them back (after a backlog). */
const SHRINK_ABOVE_BYTES = 1024 * 1024;
/** Newline, the separator after every value. */
const NEWLINE = 0x0a;

const EMPTY = Buffer.alloc(0);

/** See the module comment. Values must not hold a raw newline (JSON never does). */
export class PartitionBuffer {
  private bytes: Buffer = EMPTY;
  private used = 0;
  private ends = new Float64Array(INITIAL_EVENTS);
  private events = 0;

  /** @param maxBytes - Most bytes this partition may hold; {@link push} refuses beyond it. */
  constructor(private readonly maxBytes: number) {}

  /** Events buffered. */
  get count(): number {
    return this.events;
  }

  /** Bytes buffered, separators included. */
  get byteLength(): number {
    return this.used;
  }

  /**
   * Appends a value. Returns false, buffering nothing, when it would take the partition beyond
   * its `maxBytes`.
   */
  push(value: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units). Near
    // the limit, the exact size decides instead of the worst case.
    const room = value.length * 3 + 1;
    if (this.used + room > this.bytes.length) {
      const needed = this.used + (this.used + room <= this.maxBytes ? room : Buffer.byteLength(value) + 1);
      if (needed > this.maxBytes) return false;
      if (needed > this.bytes.length) this.growTo(needed);
    }
    if (this.events === this.ends.length) {
      const ends = new Float64Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    this.used += this.bytes.write(value, this.used, 'utf8');
    this.bytes[this.used] = NEWLINE;
    this.used += 1;
    this.ends[this.events] = this.used;
    this.events += 1;
    return true;
  }

  /**
   * The first `count` events (1 to {@link count}), each followed by a newline: a view of the
   * buffer, unchanged until the next {@link drop} (a push that grows the buffer moves the rest
   * to a new one and leaves this view as it was).
   */
  head(count: number): Buffer {
    return this.bytes.subarray(0, this.ends[count - 1]);
  }

  /** Removes the first `count` events (those a {@link head} of `count` held). */
  drop(count: number): void {
    if (count >= this.events) {
      this.events = 0;
      this.used = 0;
      if (this.bytes.length > SHRINK_ABOVE_BYTES) {
        this.bytes = EMPTY;
        this.ends = new Float64Array(INITIAL_EVENTS);
      }
      return;
    }
    if (count <= 0) return;
    const cut = this.ends[count - 1] as number;
    this.bytes.copyWithin(0, cut, this.used);
    this.used -= cut;
    for (let i = count; i < this.events; i += 1) this.ends[i - count] = (this.ends[i] as number) - cut;
    this.events -= count;
  }

  /** Moves the bytes to a larger buffer, of at least `needed` (at most `maxBytes`) bytes. */
  private growTo(needed: number): void {
    let size = Math.max(INITIAL_BYTES, this.bytes.length);
    while (size < needed) size *= 2;
    const bytes = Buffer.allocUnsafeSlow(Math.min(size, this.maxBytes));
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }
}
