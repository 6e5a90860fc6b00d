/** Group commit: batches writes while each caller gets its own result. */
import { describe, expect, it } from 'vitest';

import { GroupCommit, type GroupCommitResult } from '../../../server/http/group-commit.js';

/** A write that records its batches and answers each item by `answer`. */
function recordingWrite<Out>(answer: (item: number) => GroupCommitResult<Out>) {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    batches,
    /** Holds the next writes until {@link release} is called. */
    hold() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release(),
    write: async (items: readonly number[]) => {
      batches.push([...items]);
      await gate;
      return items.map(answer);
    },
  };
}

describe('GroupCommit', () => {
  it('writes the items submitted in one tick as one batch and answers each caller its own value', async () => {
    const recorder = recordingWrite((item) => ({ ok: true, value: item * 10 }));
    const commit = new GroupCommit({ write: recorder.write });
    expect(await Promise.all([1, 2, 3].map((item) => commit.submit(item)))).toEqual([10, 20, 30]);
    expect(recorder.batches).toEqual([[1, 2, 3]]);
  });

  it('gathers the items that arrive while the batches in flight are written into the next batch', async () => {
    const recorder = recordingWrite((item) => ({ ok: true, value: item }));
    recorder.hold();
    const commit = new GroupCommit({ write: recorder.write, maxInFlight: 1 });
    const first = commit.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((item) => commit.submit(item));
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.batches).toEqual([[1]]);
    recorder.release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(recorder.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('splits batches at maxBatch', async () => {
    const recorder = recordingWrite((item) => ({ ok: true, value: item }));
    const commit = new GroupCommit({ write: recorder.write, maxBatch: 2, maxInFlight: 4 });
    await Promise.all([1, 2, 3, 4, 5].map((item) => commit.submit(item)));
    expect(recorder.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the item the write reports as failed', async () => {
    const commit = new GroupCommit<number, number>({ write: recordingWrite((item) => (item === 2 ? { ok: false, error: new Error('item 2 failed') } : { ok: true, value: item })).write });
    const results = await Promise.allSettled([1, 2, 3].map((item) => commit.submit(item)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every item of a batch whose write throws, and keeps serving later submissions', async () => {
    let calls = 0;
    const commit = new GroupCommit<number, number>({
      write: async (items) => {
        calls++;
        if (calls === 1) throw new Error('datastore down');
        return items.map((item) => ({ ok: true, value: item }));
      },
    });
    const failed = await Promise.allSettled([1, 2].map((item) => commit.submit(item)));
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await commit.submit(3)).toBe(3);
  });

  it('refuses a maxBatch or maxInFlight below one', () => {
    const write = async () => [];
    expect(() => new GroupCommit({ write, maxBatch: 0 })).toThrow(RangeError);
    expect(() => new GroupCommit({ write, maxInFlight: 0 })).toThrow(RangeError);
  });
});
