#!/usr/bin/env node
// Regenerates release-signature-vectors.json: release signatures made the way cosign makes them
// (simple-signing payload, base64 DER/raw signature) and Sigstore bundles v0.3 built with
// @sigstore/bundle, over a fixed scanner image manifest. Fresh keys every run; only public keys,
// payloads and signatures are written. Run: node libs/signer-testing/src/release/vectors/generate-vectors.mjs
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleToJSON, toDSSEBundle, toMessageSignatureBundle } from '@sigstore/bundle';

const REPOSITORY = 'registry.stella-ops.org/stella-ops/scanner';
// Bytes of a scanner image manifest; its digest is what every vector signs (or pointedly does not).
const IMAGE_MANIFEST = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}',
);
const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const SCANNER_DIGEST = digestOf(IMAGE_MANIFEST);
const OTHER_DIGEST = `sha256:${'0f'.repeat(32)}`;
const RELEASE = { version: '2.4.1', created: '2026-06-01T00:00:00Z' };

const KEYS = {
  'ecdsa-p256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'ecdsa-p384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ed25519: () => generateKeyPairSync('ed25519'),
  rsa: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const HASH = { 'ecdsa-p256': 'sha256', 'ecdsa-p384': 'sha384', ed25519: null, rsa: 'sha256' };

// Field order as cosign's Go structs marshal it: critical{identity,image,type}, optional.
function simpleSigning(digest) {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': REPOSITORY },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: {
        'org.opencontainers.image.created': RELEASE.created,
        'org.opencontainers.image.version': RELEASE.version,
      },
    }),
  );
}

function statement(digest) {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: REPOSITORY,
          digest: { sha256: digest.slice('sha256:'.length) },
          annotations: {
            'org.opencontainers.image.created': RELEASE.created,
            'org.opencontainers.image.version': RELEASE.version,
          },
        },
      ],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    }),
  );
}

const pae = (type, body) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);

function keyPair(kind) {
  const { publicKey, privateKey } = KEYS[kind]();
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function cosignVector(name, kind, digest, expect) {
  const key = keyPair(kind);
  const payload = simpleSigning(digest);
  const signature = sign(HASH[kind], payload, key.privateKey);
  return {
    name,
    format: 'cosign',
    keyKind: kind,
    publicKeyPem: key.publicKeyPem,
    payload: payload.toString('base64'),
    signature: signature.toString('base64'),
    expect,
  };
}

function dsseVector(name, kind, digest, expect) {
  const key = keyPair(kind);
  const payload = statement(digest);
  const signature = sign(HASH[kind], pae('application/vnd.in-toto+json', payload), key.privateKey);
  const bundle = bundleToJSON(
    toDSSEBundle({
      artifact: payload,
      artifactType: 'application/vnd.in-toto+json',
      signature,
      keyHint: name,
    }),
  );
  return { name, format: 'sigstore-bundle', keyKind: kind, publicKeyPem: key.publicKeyPem, bundle, expect };
}

function messageVector(name, kind, expect) {
  const key = keyPair(kind);
  const signature = sign(HASH[kind], IMAGE_MANIFEST, key.privateKey);
  const digest = createHash('sha256').update(IMAGE_MANIFEST).digest();
  const bundle = bundleToJSON(toMessageSignatureBundle({ digest, signature, keyHint: name }));
  return { name, format: 'sigstore-bundle', keyKind: kind, publicKeyPem: key.publicKeyPem, bundle, expect };
}

const verified = { verified: true, metadata: RELEASE };
const vectors = {
  generatedBy: 'libs/signer-testing/src/release/vectors/generate-vectors.mjs',
  repository: REPOSITORY,
  scannerDigest: SCANNER_DIGEST,
  imageManifest: IMAGE_MANIFEST.toString('base64'),
  vectors: [
    cosignVector('cosign-ecdsa-p256', 'ecdsa-p256', SCANNER_DIGEST, verified),
    cosignVector('cosign-ecdsa-p384', 'ecdsa-p384', SCANNER_DIGEST, verified),
    cosignVector('cosign-ed25519', 'ed25519', SCANNER_DIGEST, verified),
    cosignVector('cosign-rsa', 'rsa', SCANNER_DIGEST, verified),
    cosignVector('cosign-other-digest', 'ecdsa-p256', OTHER_DIGEST, {
      verified: false,
      problem: 'digest_mismatch',
    }),
    dsseVector('bundle-dsse-ecdsa-p256', 'ecdsa-p256', SCANNER_DIGEST, verified),
    dsseVector('bundle-dsse-ed25519', 'ed25519', SCANNER_DIGEST, verified),
    dsseVector('bundle-dsse-other-digest', 'ecdsa-p256', OTHER_DIGEST, {
      verified: false,
      problem: 'digest_mismatch',
    }),
    messageVector('bundle-message-ecdsa-p256', 'ecdsa-p256', { verified: true, metadata: {} }),
  ],
};

const out = join(import.meta.dirname, 'release-signature-vectors.json');
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${out}`);
