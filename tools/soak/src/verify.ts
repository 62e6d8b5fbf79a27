import { X509Certificate } from 'node:crypto';
import {
  IN_TOTO_PAYLOAD_TYPE,
  verifyBundle,
  verifyDsseEnvelope,
  type PublicKeyInfo,
  type SignDsseResponse,
} from '@signer/client';
import type { Exchange } from './ledger';
import { KEY_IDS, KEYLESS_IDENTITY } from './topology';

/** The trust a verifier holds out of band: the published keys and the Fulcio CA chain. */
export interface VerificationTrust {
  keys: readonly PublicKeyInfo[];
  fulcioChainPem: readonly string[];
}

const EXPECTED_KEY: Record<string, string> = {
  'sign-aws': KEY_IDS.aws,
  'sign-keyless': 'keyless',
};

function statementDigest(payload: string): string | undefined {
  const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
    subject?: Array<{ digest?: { sha256?: string } }>;
  };
  return statement.subject?.[0]?.digest?.sha256;
}

/**
 * Keyless: the leaf chains to the test Fulcio CA (trusted out of band), names the Signer's
 * identity, and its key verifies the DSSE signature; the Sigstore bundle restates the same
 * envelope and leaf. node:crypto only.
 */
function verifyKeyless(response: SignDsseResponse, trust: VerificationTrust): string | undefined {
  const chain = response.bundle.certificateChain ?? [];
  if (chain.length !== trust.fulcioChainPem.length + 1) return 'certificate chain length';
  if (chain.slice(1).some((pem, i) => pem.trim() !== trust.fulcioChainPem[i].trim()))
    return 'untrusted chain';
  const leaf = new X509Certificate(chain[0]);
  const issuer = new X509Certificate(chain[1]);
  if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) return 'leaf not issued by the CA';
  if (!(leaf.subjectAltName ?? '').includes(`email:${KEYLESS_IDENTITY}`)) return 'leaf identity';
  const leafPem = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!verifyDsseEnvelope(response.bundle.dsse, leafPem)) return 'DSSE signature';
  const sigstore = response.sigstoreBundle as {
    dsseEnvelope?: { payload?: string; signatures?: Array<{ sig?: string }> };
    verificationMaterial?: { certificate?: { rawBytes?: string } };
  };
  if (sigstore.verificationMaterial?.certificate?.rawBytes !== leaf.raw.toString('base64'))
    return 'sigstore bundle certificate';
  if (
    sigstore.dsseEnvelope?.payload !== response.bundle.dsse.payload ||
    sigstore.dsseEnvelope?.signatures?.[0]?.sig !== response.bundle.dsse.signatures[0].sig
  )
    return 'sigstore bundle envelope';
  return undefined;
}

/**
 * Verifies a 200 as its caller would, independently of the service code: kms bundles with the
 * published key (DSSE with node:crypto, the Sigstore bundle with @sigstore/verify), keyless ones
 * against the Fulcio CA; the Statement must name the digest this request sent. Returns the
 * problem, or undefined when it verifies.
 */
export async function verifyAnswer(e: Exchange, trust: VerificationTrust): Promise<string | undefined> {
  const response = e.response as unknown as SignDsseResponse | undefined;
  if (!response?.bundle?.dsse) return 'no bundle';
  const expectedKey = EXPECTED_KEY[e.kind] ?? KEY_IDS.file;
  // Requests name keys by label; bundles carry the key's fingerprint (contract §11), as /keys maps it.
  const expectedKeyId = trust.keys.find((key) => key.name === expectedKey)?.keyId ?? expectedKey;
  if (response.bundle.signingIdentity?.keyId !== expectedKeyId && expectedKey !== 'keyless')
    return `signed with ${response.bundle.signingIdentity?.keyId}, expected ${expectedKey} (${expectedKeyId})`;
  if (response.bundle.dsse.payloadType !== IN_TOTO_PAYLOAD_TYPE) return 'payload type';
  try {
    if (response.bundle.mode === 'keyless') {
      if (expectedKey !== 'keyless') return 'keyless bundle for a kms request';
      const problem = verifyKeyless(response, trust);
      if (problem) return problem;
    } else {
      if (expectedKey === 'keyless') return 'kms bundle for a keyless request';
      await verifyBundle(response, trust.keys);
    }
  } catch (error) {
    return (error as Error).message;
  }
  if (statementDigest(response.bundle.dsse.payload) !== e.subjectDigest)
    return 'Statement names another subject';
  return undefined;
}
