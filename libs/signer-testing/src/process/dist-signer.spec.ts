import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DpopKey, SignerClient, verifyBundle } from '@signer/client';
import { bundleSigner } from './bundle-signer';
import { startDistSigner, type DistSigner } from './dist-signer';
import { findWorkspaceRoot } from './workspace-root';

const reachable = (url: string) =>
  fetch(`${url}/healthz`).then(
    () => true,
    () => false,
  );

describe('startDistSigner', () => {
  let signer: DistSigner;
  let bundleDir: string;

  beforeAll(async () => {
    // A private bundle in a folder of its own, like the image's /app (dist/ may be mid-build).
    const root = findWorkspaceRoot();
    bundleDir = join(root, 'tmp', `dist-signer-${process.pid}`);
    const main = await bundleSigner(join(bundleDir, 'main.js'), root);
    signer = await startDistSigner({ main });
  }, 120_000);

  afterAll(async () => {
    await signer?.stop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  describe('when a caller signs with the operator material', () => {
    it('answers with a bundle that verifies with the served key', async () => {
      const dpopKey = await DpopKey.generate();
      const client = new SignerClient({
        baseUrl: signer.url,
        accessToken: await signer.mintToken({ jkt: dpopKey.thumbprint }),
        dpopKey,
      });
      const digest = createHash('sha256').update('operator artifact').digest('hex');

      const response = await client.signDsse({
        subject: [{ name: 'artifact.txt', digest: { sha256: digest } }],
        predicateType: signer.predicateTypes[0],
        predicate: { from: 'dist' },
        scannerImageDigest: signer.scannerDigest,
        poe: { format: 'jwt', value: readFileSync(signer.poeFile, 'utf8') },
      });

      const { keys } = await client.keys();
      const verified = await verifyBundle(response, keys);

      // The DSSE keyid is the key's SPKI fingerprint; `/keys` names it with its operator label.
      expect(verified.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(keys.find((key) => key.keyId === verified.keyId)?.name).toBe('operator');
      expect(verified.statement.subject).toEqual([{ name: 'artifact.txt', digest: { sha256: digest } }]);
    });
  });

  describe('when the config is inspected', () => {
    it('is an operator config: remote JWKS, online Licensing, its own key', () => {
      const config = readFileSync(signer.configPath, 'utf8');

      expect([
        /jwksUri: http/.test(config),
        /introspectUrl: http/.test(config),
        /operator:/.test(config),
      ]).toEqual([true, true, true]);
    });
  });

  describe('when it is stopped', () => {
    it('no longer answers', async () => {
      const url = signer.url;
      await signer.stop();

      expect(await reachable(url)).toBe(false);
    });
  });
});
