import { createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot, type PublicKey } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type VerifierOptions } from '@sigstore/verify';
import { ClientVerificationError } from './errors';

export interface BundleKeyOptions {
  /** The key id the bundle names (`verificationMaterial.publicKey.hint`), as listed at `GET /keys`. */
  keyHint: string;
  /** The SPKI PEM published for that key id. */
  publicKeyPem: string;
}

/**
 * A trust root with no Fulcio CA, no Rekor/CT log and no TSA: the only thing trusted is the key
 * passed in, so a certificate-based or foreign-key bundle cannot verify against it.
 */
export const EMPTY_TRUSTED_ROOT_JSON = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
} as const;

/**
 * The Signer never writes to a transparency log or a TSA (the Attestor adds the tlog entry
 * later), so a fresh bundle has neither; these thresholds accept that. They only make sense with a
 * public key trusted out of band, which is why this is the only way this module builds a Verifier.
 */
export const KEYED_BUNDLE_VERIFIER_OPTIONS: Readonly<VerifierOptions> = {
  tlogThreshold: 0,
  ctlogThreshold: 0,
  timestampThreshold: 0,
};

/**
 * Verifies a Signer `sigstoreBundle` (DSSE content, public-key hint) with `@sigstore/verify`
 * against a trust root that holds only the given key. Resolves when the signature verifies;
 * rejects with {@link ClientVerificationError} otherwise.
 */
export async function verifySigstoreBundleWithKey(
  bundleJson: unknown,
  options: BundleKeyOptions,
): Promise<void> {
  const trustedKey = toTrustedKey(options.publicKeyPem);
  const bundle = parseBundle(bundleJson);
  assertKeyedDsseBundle(bundle, options.keyHint);
  const trustMaterial = toTrustMaterial(TrustedRoot.fromJSON(EMPTY_TRUSTED_ROOT_JSON), {
    [options.keyHint]: trustedKey,
  });
  try {
    new Verifier(trustMaterial, KEYED_BUNDLE_VERIFIER_OPTIONS).verify(toSignedEntity(bundle));
  } catch (cause) {
    throw new ClientVerificationError('verification_failed', 'Sigstore bundle signature does not verify', {
      cause,
    });
  }
}

function parseBundle(json: unknown): Bundle {
  try {
    return bundleFromJSON(json);
  } catch (cause) {
    throw new ClientVerificationError('invalid_bundle', 'not a valid Sigstore bundle', { cause });
  }
}

// Checked before the Verifier so the failure says what is wrong: with an empty trust root a
// certificate bundle could never verify here, and a different hint is a different key.
function assertKeyedDsseBundle(bundle: Bundle, keyHint: string): void {
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new ClientVerificationError('invalid_bundle', `expected DSSE content, got ${bundle.content.$case}`);
  }
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    throw new ClientVerificationError('key_mismatch', `expected a public-key hint, got ${material.$case}`);
  }
  if (material.publicKey.hint !== keyHint) {
    throw new ClientVerificationError(
      'key_mismatch',
      `expected key hint "${keyHint}", got "${material.publicKey.hint}"`,
    );
  }
}

// @sigstore/verify 3.1.1 verifies DSSE with crypto.verify(undefined, …): the key type picks the
// digest, which is SHA-256 for any EC curve. Only P-256 and Ed25519 therefore verify correctly.
function toTrustedKey(publicKeyPem: string): PublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new ClientVerificationError('unsupported_key', 'public key does not parse as PEM', { cause });
  }
  const rawBytes = key.export({ type: 'spki', format: 'der' });
  if (key.asymmetricKeyType === 'ed25519') return { rawBytes, keyDetails: PublicKeyDetails.PKIX_ED25519 };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { rawBytes, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256 };
  }
  throw new ClientVerificationError('unsupported_key', 'expected an ECDSA P-256 or Ed25519 public key');
}
