import { VARIANT_NAMES, parseVariants, variantsOfRound } from './variants';

const names = (raw: string | undefined) => parseVariants(raw).map((variant) => variant.name);

describe('parseVariants', () => {
  describe('when BENCH_VARIANTS is unset or blank', () => {
    it('runs every variant, in table order', () => {
      expect(names(undefined)).toEqual([...VARIANT_NAMES]);
      expect(names('  ')).toEqual([...VARIANT_NAMES]);
    });
  });

  describe('when it is none', () => {
    it('runs the base measurements only', () => {
      expect(names('none')).toEqual([]);
    });
  });

  describe('when it is a comma list', () => {
    it('runs those variants in table order', () => {
      expect(names(' keyless, redis ')).toEqual(['redis', 'keyless']);
    });
  });

  describe('when it names an unknown variant or nothing', () => {
    it('throws, naming what is known', () => {
      expect(() => parseVariants('redis,postgres')).toThrow(
        'BENCH_VARIANTS: unknown postgres; expected none or a comma list of token-cache-off, redis',
      );
      expect(() => parseVariants(',')).toThrow('BENCH_VARIANTS: unknown (empty)');
    });
  });
});

describe('variantsOfRound', () => {
  const rounds = (variants: string[], count: number) =>
    Array.from({ length: count }, (_, i) => variantsOfRound(variants, i + 1, count));

  describe('when there are more variants than rounds', () => {
    it('spreads them over the rounds, each once', () => {
      expect(rounds(['a', 'b', 'c', 'd', 'e'], 3)).toEqual([['a', 'd'], ['b', 'e'], ['c']]);
    });
  });

  describe('when there are more rounds than variants', () => {
    it('runs the variants again, one run per round', () => {
      expect(rounds(['redis'], 5)).toEqual([['redis'], ['redis'], ['redis'], ['redis'], ['redis']]);
      expect(rounds(['a', 'b'], 3)).toEqual([['a'], ['b'], ['a']]);
    });
  });

  describe('when there are no variants', () => {
    it('runs none', () => {
      expect(rounds([], 3)).toEqual([[], [], []]);
    });
  });
});
