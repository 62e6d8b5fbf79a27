import type { FulcioTestCa } from './fulcio-test-ca';
import type { TestTsa } from './test-tsa';

const START = '2020-01-01T00:00:00Z';
const der = (pem: string) =>
  Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64').toString(
    'base64',
  );

/**
 * A Sigstore TrustedRoot (JSON) holding the test Fulcio CA (intermediate + root), its CT log key
 * and, optionally, the test TSA — the trust material `@sigstore/verify` needs for keyless bundles.
 */
export function testTrustedRootJson(ca: FulcioTestCa, tsa?: TestTsa): Record<string, unknown> {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [
      {
        subject: { organization: 'stella-ops.test', commonName: 'sigstore-test-intermediate' },
        uri: 'https://fulcio.stella-ops.test',
        certChain: { certificates: ca.chainPem().map((pem) => ({ rawBytes: der(pem) })) },
        validFor: { start: START },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctlog.stella-ops.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: ca.ctLog.spkiDer().toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: START },
        },
        logId: { keyId: ca.ctLog.logId.toString('base64') },
      },
    ],
    timestampAuthorities: tsa
      ? [
          {
            subject: { organization: 'stella-ops.test', commonName: 'test-tsa' },
            uri: 'https://tsa.stella-ops.test',
            certChain: { certificates: tsa.chainDer().map((d) => ({ rawBytes: d.toString('base64') })) },
            validFor: { start: START },
          },
        ]
      : [],
  };
}
