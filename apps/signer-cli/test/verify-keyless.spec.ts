import { createPrivateKey, sign as signBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pae } from '@signer/client';
import { DevPki } from '@signer/testing';
import { run } from '../src/main';
import { capturedIo } from './captured-io';

const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const der = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

/**
 * A keyless response as the Signer returns it: a DSSE envelope signed by the leaf certificate's
 * key and a Sigstore bundle v0.3 carrying the leaf, without any timestamp.
 */
async function keylessResponse(statement: object) {
  const pki = await DevPki.create();
  const leaf = await pki.issueClient('keyless-leaf');
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
      signingIdentity: { keyId: 'keyless' },
    },
    sigstoreBundle: {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: der(leaf.certPem) }, tlogEntries: [] },
      dsseEnvelope: dsse,
    },
    policy: { plan: 'pro', maxArtifactBytes: 1, qpsRemaining: 1 },
    auditId: 'a',
  };
}

describe('signer verify (keyless bundles)', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'signer-cli-keyless-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('when the bundle carries no timestamp', () => {
    it('refuses it (exit 1, timestamp_required) although the DSSE signature verifies', async () => {
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'a.txt', digest: { sha256: 'ab'.repeat(32) } }],
        predicateType: 'https://stella-ops.org/attestations/scan-report/1',
        predicate: {},
      };
      writeFileSync(join(work, 'keyless.json'), JSON.stringify(await keylessResponse(statement)));
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
      const response = await keylessResponse({ _type: 'https://in-toto.io/Statement/v1', subject: [] });
      response.bundle.dsse.payload = Buffer.from('{"tampered":true}').toString('base64');
      writeFileSync(join(work, 'tampered.json'), JSON.stringify(response));
      const io = capturedIo(work);
      const code = await run(['verify', 'tampered.json', '--trusted-root', 'root.json'], io);
      expect(code).toBe(1);
      expect(io.err.join('')).toMatch(/^verification failed: verification_failed: DSSE envelope/);
    });
  });
});
