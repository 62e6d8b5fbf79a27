import { createHash, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { dsseEnvelope, preAuthEncoding, SigstoreDsseBundleEncoder, type SignatureResult } from '@signer/core';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { TestOidcIssuer, testTrustedRootJson, TestTsa } from '@signer/testing';
import { SIGNER_EMAIL, refusal, startKeylessWorld, type KeylessWorld } from './keyless-fixture';

const payloadType = 'application/vnd.in-toto+json';
const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1","subject":[]}');
const pae = preAuthEncoding(payloadType, statement);

describe('KeylessSigner with a Fulcio CA at the wire', () => {
  let world: KeylessWorld;
  beforeEach(async () => {
    world = await startKeylessWorld();
  });
  afterEach(() => world.close());

  describe('when Fulcio issues a certificate', () => {
    let result: SignatureResult;
    beforeEach(async () => {
      result = await world.signer().signer.sign(pae);
    });

    it('signs DSSE PAE with the certified key, DER ECDSA that node:crypto verifies', () => {
      const leaf = new X509Certificate(result.certificateChain?.[0] ?? '');
      expect(result.signature[0]).toBe(0x30);
      expect(verify('sha256', pae, { key: leaf.publicKey, dsaEncoding: 'der' }, result.signature)).toBe(true);
    });

    it('returns the chain leaf first and the identity read from the certificate', () => {
      const chain = result.certificateChain ?? [];
      expect(chain.slice(1)).toEqual(world.ca.chainPem());
      const leaf = new X509Certificate(chain[0]);
      const fingerprint = createHash('sha256').update(leaf.raw).digest('hex');
      expect(result.dsseKeyId).toBe(fingerprint);
      expect(result.identity).toEqual({
        keyId: fingerprint,
        issuer: world.oidc.issuer,
        subject: SIGNER_EMAIL,
        certExpiry: new Date(leaf.validTo).toISOString().replace('.000Z', 'Z'),
        certificateSerial: leaf.serialNumber.toLowerCase(),
      });
    });

    it('produces a Sigstore bundle that @sigstore/verify accepts once a TSA timestamp is added', async () => {
      const tsa = await TestTsa.create();
      try {
        const envelope = dsseEnvelope(payloadType, statement, result.dsseKeyId, result.signature);
        const json = new SigstoreDsseBundleEncoder().encode(envelope, result) as {
          verificationMaterial: Record<string, unknown>;
        };
        // What the Attestor (or a TSA witness) adds after the Signer: a timestamp over the signature.
        json.verificationMaterial['timestampVerificationData'] = {
          rfc3161Timestamps: [{ signedTimestamp: tsa.timestamp(result.signature).toString('base64') }],
        };
        const trust = toTrustMaterial(TrustedRoot.fromJSON(testTrustedRootJson(world.ca, tsa)));
        const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 });
        const signer = verifier.verify(toSignedEntity(bundleFromJSON(json)), {
          subjectAlternativeName: SIGNER_EMAIL,
          extensions: { issuer: world.oidc.issuer },
        });
        expect(signer.identity?.subjectAlternativeName).toBe(SIGNER_EMAIL);
      } finally {
        tsa.close();
      }
    });

    it('is refused by @sigstore/verify without a timestamp (the bundle needs one beyond the Signer)', () => {
      const envelope = dsseEnvelope(payloadType, statement, result.dsseKeyId, result.signature);
      const json = new SigstoreDsseBundleEncoder().encode(envelope, result);
      const trust = toTrustMaterial(TrustedRoot.fromJSON(testTrustedRootJson(world.ca)));
      const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 });
      expect(() => verifier.verify(toSignedEntity(bundleFromJSON(json)))).toThrow(/timestamp/i);
    });
  });

  describe('when describing the keyless key', () => {
    it('publishes nothing before the first certificate, then the key and chain in use (no Fulcio call)', async () => {
      const { signer } = world.signer();
      await expect(signer.describe()).resolves.toEqual({
        keyId: 'keyless',
        algorithm: 'ES256',
        publicKeyPem: '',
      });
      expect(world.fulcio.calls).toHaveLength(0);
      const result = await signer.sign(pae);
      const described = await signer.describe();
      expect(described.certificateChain).toEqual(result.certificateChain);
      expect(described.publicKeyPem).toBe(
        new X509Certificate(result.certificateChain?.[0] ?? '').publicKey.export({
          type: 'spki',
          format: 'pem',
        }),
      );
    });
  });

  describe('when many signatures are requested', () => {
    it('makes exactly one Fulcio call for 100 concurrent signatures, all with one certificate', async () => {
      const { signer } = world.signer();
      const results = await Promise.all(Array.from({ length: 100 }, () => signer.sign(pae)));
      expect(world.fulcio.calls).toHaveLength(1);
      expect(new Set(results.map((r) => r.identity.certificateSerial)).size).toBe(1);
    });
  });

  describe('when Fulcio refuses the identity token', () => {
    it('refuses with upstream_unavailable (fulcio) after one call, never retrying a 4xx', async () => {
      const other = await TestOidcIssuer.create(world.oidc.issuer);
      world.writeToken(await other.mint({ email: SIGNER_EMAIL }));
      const error = await refusal(world.signer().signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
      expect(world.fulcio.calls.map((c) => c.outcome)).toEqual(['token-rejected']);
    });
  });

  describe('when the proof of possession does not match the submitted key', () => {
    it('refuses after Fulcio rejects it, with one call', async () => {
      const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { signer } = world.signer({
        generateKey: () => ({ privateKey: signingKey.privateKey, publicKey: otherKey.publicKey }),
      });
      const error = await refusal(signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
      expect(world.fulcio.calls.map((c) => c.outcome)).toEqual(['pop-rejected']);
    });
  });

  describe('when Fulcio fails with 5xx', () => {
    it('retries within the deadline and then signs', async () => {
      world.fulcio.failNext(2, 503);
      const result = await world.signer().signer.sign(pae);
      expect(result.certificateChain).toHaveLength(3);
      expect(world.fulcio.calls.map((c) => c.status)).toEqual([503, 503, 200]);
    });

    it('refuses with upstream_unavailable and Retry-After once the deadline passes', async () => {
      world.fulcio.failNext(1000, 502);
      const error = await refusal(world.signer({ deadlineMs: 300 }).signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio', retryAfterSeconds: 1 });
      expect(world.fulcio.issuedCount()).toBe(0);
    });
  });
});
