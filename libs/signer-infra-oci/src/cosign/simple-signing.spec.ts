import { describe, expect, it } from '@jest/globals';
import { simpleSigningPayload } from '@signer/dev';
import { parseSimpleSigning } from './simple-signing';

const DIGEST = `sha256:${'cd'.repeat(32)}`;

function payload(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

describe('parseSimpleSigning', () => {
  describe('when given a cosign payload', () => {
    it('returns the digest, reference and optional metadata', () => {
      const bytes = simpleSigningPayload({
        repository: 'r.example/scanner',
        digest: DIGEST,
        version: '1.0.0',
        created: null,
      });
      expect(parseSimpleSigning(bytes)).toEqual({
        digest: DIGEST,
        dockerReference: 'r.example/scanner',
        metadata: { version: '1.0.0' },
      });
    });
  });

  describe('when the payload is not a cosign container image signature', () => {
    it.each([
      ['not JSON', Buffer.from('{')],
      [
        'another type',
        payload({
          critical: { type: 'atomic container signature', image: { 'docker-manifest-digest': DIGEST } },
        }),
      ],
      ['no image digest', payload({ critical: { type: 'cosign container image signature', image: {} } })],
      [
        'a non-string version',
        payload({
          critical: { type: 'cosign container image signature', image: { 'docker-manifest-digest': DIGEST } },
          optional: { 'org.opencontainers.image.version': 2 },
        }),
      ],
    ])('returns undefined (%s)', (_label, bytes) => {
      expect(parseSimpleSigning(bytes)).toBeUndefined();
    });
  });

  describe('when the optional map is null', () => {
    it('returns empty metadata', () => {
      const bytes = payload({
        critical: { type: 'cosign container image signature', image: { 'docker-manifest-digest': DIGEST } },
        optional: null,
      });
      expect(parseSimpleSigning(bytes)?.metadata).toEqual({});
    });
  });
});
