import { boundedText, MAX_RECORDED_TEXT } from './bounded-text';

describe('boundedText', () => {
  describe('when the text is well-formed and short', () => {
    it('returns it unchanged', () => {
      expect(boundedText('https://stella-ops.org/attestations/sbom/1')).toBe(
        'https://stella-ops.org/attestations/sbom/1',
      );
    });
  });

  describe('when the text has a lone surrogate', () => {
    it('replaces it so the text has a UTF-8 form', () => {
      const bounded = boundedText('p\ud800/1');
      expect(bounded).toBe('p\ufffd/1');
      expect(Buffer.from(bounded, 'utf8').toString('utf8')).toBe(bounded);
    });
  });

  describe('when the text is longer than the bound', () => {
    it('keeps the first code units and marks the cut', () => {
      const bounded = boundedText('a'.repeat(15_000));
      expect(bounded).toHaveLength(MAX_RECORDED_TEXT);
      expect(bounded.endsWith('…')).toBe(true);
    });

    it('never leaves half of a surrogate pair at the cut', () => {
      const bounded = boundedText('😀'.repeat(200), 10);
      expect(bounded.isWellFormed()).toBe(true);
      expect(bounded).toHaveLength(10);
    });
  });
});
