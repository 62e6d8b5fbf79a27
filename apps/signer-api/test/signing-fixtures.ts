import { constants, createPublicKey, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import {
  FakeFulcio,
  testTrustedRootJson,
  type FulcioTestCa,
  type TestOidcIssuer,
  type TestTsa,
} from '@signer/testing';
import { Caller, startHarness, validBody, type Harness } from './harness';

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** PAE (DSSE v1) and the algorithm's own verification, with node:crypto only. */
export function verifyDsse(envelope: Envelope, algorithm: string, publicKeyPem: string): boolean {
  const payload = Buffer.from(envelope.payload, 'base64');
  const pae = Buffer.concat([
    Buffer.from(
      `DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${payload.length} `,
    ),
    payload,
  ]);
  const key = createPublicKey(publicKeyPem);
  const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
  switch (algorithm) {
    case 'ES256':
      return verify('sha256', pae, { key, dsaEncoding: 'der' }, sig);
    case 'ES384':
      return verify('sha384', pae, { key, dsaEncoding: 'der' }, sig);
    case 'PS256':
      return verify('sha256', pae, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    case 'RS256':
      return verify('sha256', pae, { key, padding: constants.RSA_PKCS1_PADDING }, sig);
    default:
      throw new Error(`unexpected algorithm ${algorithm}`);
  }
}

const KEY_DETAILS: Record<string, PublicKeyDetails> = {
  ES256: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
  RS256: PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256,
};

/**
 * A keyful `sigstoreBundle` through @sigstore/verify with only the published key trusted. Only
 * ES256 and RS256: @sigstore/verify 3.1.1 lets the key type pick the digest (SHA-256 for every EC
 * curve, PKCS#1 v1.5 for RSA), so ES384 and PS256 bundles need sigstore-go/cosign (documented).
 */
export function verifyKeyedBundle(
  bundle: unknown,
  keyHint: string,
  algorithm: string,
  publicKeyPem: string,
): void {
  const keyDetails = KEY_DETAILS[algorithm];
  if (keyDetails === undefined) throw new Error(`@sigstore/verify cannot check ${algorithm}`);
  const rawBytes = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  const empty = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const trust = toTrustMaterial(TrustedRoot.fromJSON(empty), { [keyHint]: { rawBytes, keyDetails } });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
    toSignedEntity(bundleFromJSON(bundle)),
  );
}

/**
 * A keyless `sigstoreBundle` through @sigstore/verify, after adding what the Signer leaves to the
 * Attestor: a timestamp over the signature (here RFC 3161 from the test TSA). The Fulcio root and
 * CT log come from the test CA; the identity must match.
 */
export function verifyKeylessBundle(
  bundle: Record<string, unknown>,
  trust: { ca: FulcioTestCa; tsa: TestTsa },
  identity: { subject: string; issuer: string },
): void {
  const json = structuredClone(bundle) as {
    verificationMaterial: Record<string, unknown>;
    dsseEnvelope: Envelope;
  };
  const signature = Buffer.from(json.dsseEnvelope.signatures[0].sig, 'base64');
  json.verificationMaterial['timestampVerificationData'] = {
    rfc3161Timestamps: [{ signedTimestamp: trust.tsa.timestamp(signature).toString('base64') }],
  };
  const material = toTrustMaterial(TrustedRoot.fromJSON(testTrustedRootJson(trust.ca, trust.tsa)));
  new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
    toSignedEntity(bundleFromJSON(json)),
    { subjectAlternativeName: identity.subject, extensions: { issuer: identity.issuer } },
  );
}

/** Sets AWS SDK credentials (the default chain reads the environment) for the fake; returns the undo. */
export function useAwsCredentials(
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
): () => void {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return () => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  };
}

/** The identity (email) of the Signer's own OIDC token in keyless tests. */
export const KEYLESS_SUBJECT = 'signer@stella-ops.test';

/** A Signer with keyless signing against a loopback Fulcio; its own identity token in a file. */
export interface KeylessSigner {
  harness: Harness;
  caller: Caller;
  fulcio: FakeFulcio;
  tokenFile: string;
  close(): Promise<void>;
}

export interface KeylessSignerOptions {
  oidc: TestOidcIssuer;
  ca: FulcioTestCa;
  /** Where the identity token file is written. */
  dir: string;
  /** The Signer's identity token; by default one from `oidc` for {@link KEYLESS_SUBJECT}. */
  token?: string;
  /** `SIGNER__…` overrides (e.g. `SIGNER__SERVER__READINESSCACHEMS`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a FakeFulcio and a Signer configured for keyless signing against it, and a caller whose
 * DPoP nonce is already settled (by a keyful signing, which does not touch Fulcio).
 */
export async function startKeylessSigner(options: KeylessSignerOptions): Promise<KeylessSigner> {
  const { oidc, ca, dir } = options;
  const fulcio = await FakeFulcio.start({ oidc, ca });
  const tokenFile = join(dir, `token-${Math.random().toString(36).slice(2)}.jwt`);
  writeFileSync(tokenFile, options.token ?? (await oidc.mint({ email: KEYLESS_SUBJECT })), { mode: 0o600 });
  const harness = await startHarness({
    env: options.env,
    configure: (config) => {
      config['signing']['keyless'] = {
        fulcioUrl: fulcio.url,
        identityTokenFile: tokenFile,
        timeoutMs: 2000,
      };
    },
  });
  const caller = await Caller.create(harness);
  expect((await caller.sign(validBody(harness))).statusCode).toBe(200);
  return {
    harness,
    caller,
    fulcio,
    tokenFile,
    close: async () => {
      await harness.close();
      await fulcio.close();
    },
  };
}

/** A valid signing body asking for keyless signing. */
export const keylessBody = (harness: Harness, returnBundle = 'dsse+cert'): Record<string, unknown> =>
  validBody(harness, { options: { signingMode: 'keyless', returnBundle } });
