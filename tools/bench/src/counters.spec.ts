import { difference, parseServiceCounters } from './counters';

const METRICS = [
  '# HELP signer_requests_total Decisions by outcome.',
  '# TYPE signer_requests_total counter',
  'signer_requests_total{outcome="signed",route="sign"} 1200',
  'signer_requests_total{outcome="plan_throttled",route="sign"} 7',
  'signer_cache_hits_total{cache="optok"} 1150',
  'signer_cache_hits_total{cache="release"} 1199',
  'signer_request_duration_seconds_count 1207',
].join('\n');

describe('parseServiceCounters', () => {
  describe('when the exposition has decisions and cache hits', () => {
    it('sums decisions, counts the signed ones and keeps hits by cache', () => {
      expect(parseServiceCounters(METRICS)).toEqual({
        requests: 1207,
        signed: 1200,
        cacheHits: { optok: 1150, poe: 0, release: 1199 },
      });
    });
  });

  describe('when it has none', () => {
    it('reports zeros', () => {
      expect(parseServiceCounters('process_cpu_seconds_total 3')).toEqual({
        requests: 0,
        signed: 0,
        cacheHits: { optok: 0, poe: 0, release: 0 },
      });
    });
  });
});

describe('difference', () => {
  describe('when counters are nested and some are new', () => {
    it('subtracts each number, a missing one counting as zero', () => {
      const before = { requests: 10, cacheHits: { optok: 4 } as Record<string, number> };
      const after = { requests: 25, cacheHits: { optok: 9, release: 3 } as Record<string, number> };
      expect(difference(after, before)).toEqual({ requests: 15, cacheHits: { optok: 5, release: 3 } });
    });
  });
});
