import { GroupCommit, MAX_AUDIT_BATCH_DELAY_MS } from './group-commit';

/** Lets every pending promise callback run (setImmediate is left real). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(maxBatch: number, maxDelayMs: number) {
  const batches: number[][] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const group = new GroupCommit<number>({
    maxBatch,
    maxDelayMs,
    commit: async (batch) => {
      batches.push(batch);
      if (hold) await new Promise<void>((resolve) => (release = resolve));
    },
  });
  return {
    group,
    batches,
    holdCommits: (on: boolean) => (hold = on),
    releaseCommit: () => release?.(),
  };
}

describe('GroupCommit', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('commits a lone entry at once, without waiting for company', async () => {
    const { group, batches } = recorder(1024, MAX_AUDIT_BATCH_DELAY_MS);
    group.push(1);
    await flush();
    expect(batches).toEqual([[1]]);
  });

  it('commits entries pushed in the same tick together, in order', async () => {
    const { group, batches } = recorder(1024, 2);
    [1, 2, 3].forEach((n) => group.push(n));
    await group.settled();
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('queues entries arriving during a commit into the next batch', async () => {
    const { group, batches, holdCommits, releaseCommit } = recorder(1024, 0);
    holdCommits(true);
    group.push(1);
    await flush();
    [2, 3].forEach((n) => group.push(n));
    await flush();
    expect(batches).toEqual([[1]]);
    holdCommits(false);
    releaseCommit();
    await group.settled();
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('after a shared batch, lets the next batch wait up to the delay for more entries', async () => {
    const { group, batches } = recorder(1024, 5);
    [1, 2].forEach((n) => group.push(n));
    await flush();
    group.push(3);
    await flush();
    expect(batches).toEqual([[1, 2]]);
    jest.advanceTimersByTime(4);
    group.push(4);
    await flush();
    expect(batches).toEqual([[1, 2]]);
    jest.advanceTimersByTime(1);
    await group.settled();
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('stops waiting as soon as a full batch is queued', async () => {
    const { group, batches } = recorder(3, 50);
    [1, 2].forEach((n) => group.push(n));
    await flush();
    [3, 4].forEach((n) => group.push(n));
    await flush();
    expect(batches).toEqual([[1, 2]]);
    group.push(5);
    await group.settled();
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('never hands more than maxBatch entries to one commit', async () => {
    const { group, batches } = recorder(2, 0);
    [1, 2, 3, 4, 5].forEach((n) => group.push(n));
    await group.settled();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('hands back what is still queued, so a failed batch can fail it too', async () => {
    const { group, batches, holdCommits, releaseCommit } = recorder(1024, 0);
    holdCommits(true);
    group.push(1);
    await flush();
    [2, 3].forEach((n) => group.push(n));
    expect(group.takeQueued()).toEqual([2, 3]);
    holdCommits(false);
    releaseCommit();
    await group.settled();
    expect(batches).toEqual([[1]]);
  });

  it.each([
    [{ maxBatch: 0, maxDelayMs: 2 }, /maxBatchRecords/],
    [{ maxBatch: 1.5, maxDelayMs: 2 }, /maxBatchRecords/],
    [{ maxBatch: 8, maxDelayMs: -1 }, /batchDelayMs/],
    [{ maxBatch: 8, maxDelayMs: 0.5 }, /batchDelayMs/],
    [{ maxBatch: 8, maxDelayMs: MAX_AUDIT_BATCH_DELAY_MS + 1 }, /batchDelayMs/],
  ])('refuses options %j at construction', (options, message) => {
    expect(() => new GroupCommit<number>({ ...options, commit: async () => undefined })).toThrow(message);
  });
});
