import { ConfigError, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const config = (idempotency: Record<string, unknown>) => minimalConfig({ idempotency });

describe('idempotency configuration', () => {
  describe('when answers are kept at least as long as the minimum retention', () => {
    it('accepts it', () => {
      const loaded = validateConfig(config({ ttlSeconds: 7200, minRetentionSeconds: 3600 }), '/etc/signer');
      expect(loaded.idempotency).toMatchObject({ ttlSeconds: 7200, minRetentionSeconds: 3600 });
    });
  });

  describe('when ttlSeconds is below the default minimum retention', () => {
    it('refuses with a ConfigError naming both keys, not a crash at wiring', () => {
      let refusal: unknown;
      try {
        validateConfig(config({ ttlSeconds: 600 }), '/etc/signer');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(String((refusal as Error).message)).toMatch(
        /idempotency\.minRetentionSeconds: expected at most idempotency\.ttlSeconds \(600\), got 3600/,
      );
    });
  });
});
