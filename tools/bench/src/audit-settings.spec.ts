import {
  DEFAULT_REPLICA_RPS,
  parseWriterCounts,
  readAuditSettings,
  writersPerProcess,
} from './audit-settings';

describe('parseWriterCounts', () => {
  describe('when BENCH_AUDIT_WRITERS is unset or blank', () => {
    it('measures 1, 3 and 30 writers', () => {
      expect(parseWriterCounts(undefined)).toEqual([1, 3, 30]);
      expect(parseWriterCounts(' ')).toEqual([1, 3, 30]);
    });
  });

  describe('when it is not a list of counts in [1, 64]', () => {
    it('throws, saying what was expected', () => {
      for (const raw of ['0', '1,x', '65', '2.5']) {
        expect(() => parseWriterCounts(raw)).toThrow(
          `BENCH_AUDIT_WRITERS: expected a comma list of integers in [1, 64], got ${raw}`,
        );
      }
    });
  });
});

describe('writersPerProcess', () => {
  describe('when there are more writers than processes', () => {
    it('spreads them over three processes as evenly as possible', () => {
      expect(writersPerProcess(30)).toEqual([10, 10, 10]);
      expect(writersPerProcess(10)).toEqual([4, 3, 3]);
    });
  });

  describe('when there are fewer', () => {
    it('gives each writer a process of its own', () => {
      expect(writersPerProcess(1)).toEqual([1]);
      expect(writersPerProcess(3)).toEqual([1, 1, 1]);
    });
  });
});

describe('readAuditSettings', () => {
  it('reads the defaults and the overrides', () => {
    expect(readAuditSettings({})).toEqual({
      writers: [1, 3, 30],
      inFlight: 32,
      seconds: 10,
      warmupSeconds: 2,
      replicaRps: DEFAULT_REPLICA_RPS,
    });
    expect(readAuditSettings({ BENCH_AUDIT_WRITERS: '2', BENCH_AUDIT_SECONDS: '5' })).toMatchObject({
      writers: [2],
      seconds: 5,
    });
  });
});
