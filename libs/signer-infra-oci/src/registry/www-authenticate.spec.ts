import { describe, expect, it } from '@jest/globals';
import { parseChallenges } from './www-authenticate';

describe('parseChallenges', () => {
  describe('when the registry sends a bearer challenge', () => {
    it('returns the realm, service and scope', () => {
      expect(
        parseChallenges(
          'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:stella-ops/scanner:pull"',
        ),
      ).toEqual([
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example/token',
            service: 'registry.example',
            scope: 'repository:stella-ops/scanner:pull',
          },
        },
      ]);
    });
  });

  describe('when one header carries several challenges and escapes', () => {
    it('returns each challenge with unescaped values', () => {
      expect(
        parseChallenges(
          'Basic realm="a \\"quoted\\" realm", Bearer realm="https://t.example",error=invalid_token',
        ),
      ).toEqual([
        { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
        { scheme: 'bearer', params: { realm: 'https://t.example', error: 'invalid_token' } },
      ]);
    });
  });

  describe('when the header is missing, junk or too long', () => {
    it.each([[null], [''], ['"unterminated'], [`Bearer realm="${'x'.repeat(9000)}"`]])(
      'returns no challenge (%#)',
      (header) => {
        expect(parseChallenges(header)).toEqual([]);
      },
    );

    it('keeps what was read before an unterminated value', () => {
      expect(parseChallenges('Bearer service="s",realm="unterminated')).toEqual([
        { scheme: 'bearer', params: { service: 's' } },
      ]);
    });
  });
});
