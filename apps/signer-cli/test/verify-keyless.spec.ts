import { createHash, createPrivateKey, generateKeyPairSync, sign as signBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pae } from '@signer/client';
import { FulcioTestCa, testTrustedRootJson, TestTsa } from '@signer/testing';
import { run } from '../src/main';
import { capturedIo } from './captured-io';

const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const SUBJECT = 'signer@stella-ops.test';
const ISSUER = 'https://oidc.stella-ops.test';
const der = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

/** A Fulcio leaf (ten minutes, embedded SCT) for a fresh P-256 key, as FakeFulcio would issue it. */
async function fulcioLeaf(ca: FulcioTestCa) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const [certPem] = await ca.issue({
    publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
    issuer: ISSUER,
    san: { email: SUBJECT },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 60_000),
    embedSct: true,
  });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * A keyless response as the Signer returns it: a DSSE envelope signed by the leaf certificate's
 * key and a Sigstore bundle v0.3 carrying the leaf, without any timestamp.
 */
function keylessResponse(statement: object, leaf: { certPem: string; keyPem: string }) {
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = signBytes('sha256', pae(PAYLOAD_TYPE, payload), createPrivateKey(leaf.keyPem)).toString(
    'base64',
  );
  const dsse = {
    payloadType: PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig }],
  };
  return {
    bundle: {
      dsse,
      certificateChain: [leaf.certPem],
      mode: 'keyless',
      signingIdentity: { keyId: 'keyless', subject: SUBJECT, issuer: ISSUER },
    },
    sigstoreBundle: {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: der(leaf.certPem) },
        tlogEntries: [],
      } as Record<string, unknown>,
      dsseEnvelope: dsse,
    },
    policy: { plan: 'pro', maxArtifactBytes: 1, qpsRemaining: 1 },
    auditId: 'a',
  };
}

const statementFor = (name: string, sha256: string) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name, digest: { sha256 } }],
  predicateType: 'https://stella-ops.org/attestations/scan-report/1',
  predicate: {},
});

describe('signer verify (keyless bundles)', () => {
  let work: string;
  let ca: FulcioTestCa;
  let tsa: TestTsa;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'signer-cli-keyless-'));
    [ca, tsa] = await Promise.all([FulcioTestCa.create(), TestTsa.create()]);
  });
  afterAll(() => {
    tsa.close();
    rmSync(work, { recursive: true, force: true });
  });

  describe('when the bundle carries no timestamp', () => {
    it('refuses it (exit 1, timestamp_required) although the DSSE signature verifies', async () => {
      const response = keylessResponse(statementFor('a.txt', 'ab'.repeat(32)), await fulcioLeaf(ca));
      writeFileSync(join(work, 'keyless.json'), JSON.stringify(response));
      writeFileSync(join(work, 'root.json'), '{}');
      const io = capturedIo(work);
      const code = await run(['verify', 'keyless.json', '--trusted-root', 'root.json', '--json'], io);
      expect(code).toBe(1);
      expect(JSON.parse(io.out.join(''))).toMatchObject({
        error: { code: 'timestamp_required', exitCode: 1 },
      });
    });
  });

  describe('when the DSSE signature does not match the leaf certificate', () => {
    it('fails verification (exit 1) before looking at timestamps', async () => {
      const response = keylessResponse(statementFor('a.txt', 'ab'.repeat(32)), await fulcioLeaf(ca));
      response.bundle.dsse.payload = Buffer.from('{"tampered":true}').toString('base64');
      writeFileSync(join(work, 'tampered.json'), JSON.stringify(response));
      const io = capturedIo(work);
      const code = await run(['verify', 'tampered.json', '--trusted-root', 'root.json'], io);
      expect(code).toBe(1);
      expect(io.err.join('')).toMatch(/^verification failed: verification_failed: DSSE envelope/);
    });
  });

  describe('when the bundle carries an RFC 3161 timestamp from a TSA in the trusted root', () => {
    const artifact = Buffer.from('the scanned artifact\n');
    const sha256 = createHash('sha256').update(artifact).digest('hex');
    const verifyArgs = ['verify', 'stamped.json', '--trusted-root', 'trusted-root.json', '--json'];

    // What the Attestor adds later: a timestamp over the signature, then the trust to check it.
    beforeAll(async () => {
      const response = keylessResponse(statementFor('artifact.txt', sha256), await fulcioLeaf(ca));
      const signature = Buffer.from(response.bundle.dsse.signatures[0].sig, 'base64');
      response.sigstoreBundle.verificationMaterial['timestampVerificationData'] = {
        rfc3161Timestamps: [{ signedTimestamp: tsa.timestamp(signature).toString('base64') }],
      };
      writeFileSync(join(work, 'stamped.json'), JSON.stringify(response));
      writeFileSync(join(work, 'trusted-root.json'), JSON.stringify(testTrustedRootJson(ca, tsa)));
      writeFileSync(join(work, 'artifact.txt'), artifact);
      writeFileSync(join(work, 'other.txt'), 'another file\n');
    });

    it('verifies it (exit 0) and reports the statement and the certificate identity', async () => {
      const io = capturedIo(work);
      const identity = ['--certificate-identity', SUBJECT, '--certificate-oidc-issuer', ISSUER];
      const code = await run([...verifyArgs, ...identity], io);
      expect(io.err.join('')).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(io.out.join(''))).toEqual({
        verified: true,
        mode: 'keyless',
        keyId: 'keyless',
        identity: { subject: SUBJECT, issuer: ISSUER },
        predicateType: 'https://stella-ops.org/attestations/scan-report/1',
        subjects: [{ name: 'artifact.txt', digest: { sha256 } }],
      });
    });

    it('passes the --artifact check for the file the statement names', async () => {
      const io = capturedIo(work);
      const code = await run([...verifyArgs, '--artifact', 'artifact.txt'], io);
      expect(code).toBe(0);
      expect(JSON.parse(io.out.join(''))).toMatchObject({
        verified: true,
        artifact: { file: 'artifact.txt', sha256, subject: 'artifact.txt' },
      });
    });

    it('fails the --artifact check (exit 1, subject_mismatch) for another file', async () => {
      const io = capturedIo(work);
      const code = await run([...verifyArgs, '--artifact', 'other.txt'], io);
      expect(code).toBe(1);
      expect(JSON.parse(io.out.join(''))).toMatchObject({
        error: { code: 'subject_mismatch', exitCode: 1 },
      });
    });

    it('fails verification (exit 1) when the certificate identity is not the one required', async () => {
      const io = capturedIo(work);
      const code = await run([...verifyArgs, '--certificate-identity', 'someone@else.test'], io);
      expect(code).toBe(1);
      const { error } = JSON.parse(io.out.join(''));
      expect(error).toMatchObject({ code: 'verification_failed', exitCode: 1 });
      expect(error.message).toMatch(/certificate identity error - expected someone@else\.test/);
    });
  });
});
