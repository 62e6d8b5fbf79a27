import { auditProblems } from './workspace';

const ids = (...n: number[]) => n.map((i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('auditProblems', () => {
  describe('when every 200 has its signed record and few more were signed in flight', () => {
    it('finds none and counts the unacknowledged records', () => {
      expect(
        auditProblems({
          chain: { ok: true },
          signed: new Set(ids(1, 2, 3, 4)),
          acknowledgedIds: ids(1, 2, 3),
          maxUnacknowledged: 1,
        }),
      ).toEqual({ unacknowledged: 1, problems: [] });
    });
  });

  describe('when the trail falls short', () => {
    it('names a broken chain, a repeated id, missing records and too many unacknowledged ones', () => {
      const { problems } = auditProblems({
        chain: { ok: false, index: 7, reason: 'expected prevHash a, got b' },
        signed: new Set(ids(1, 5, 6, 7)),
        acknowledgedIds: ids(1, 1, 2),
        maxUnacknowledged: 1,
      });
      expect(problems).toEqual([
        'hash chain broken at record 7: expected prevHash a, got b',
        'an audit id was answered twice',
        `1 answered 200s have no signed record (first ${ids(2)[0]})`,
        'expected at most 1 signed records without a received 200, got 2',
      ]);
    });
  });
});
