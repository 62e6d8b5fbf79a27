import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { FulcioResponseError } from './fulcio-client';

/** Fulcio's OIDC issuer extensions: v2 is a DER UTF8String, v1 (deprecated) the raw bytes. */
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_EMBEDDED_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

/** A checked Fulcio certificate for the Signer's ephemeral key. */
export interface IssuedCertificate {
  /** PEM, leaf first, as Fulcio returned it. */
  chainPem: string[];
  /** Lowercase hex SHA-256 of the leaf DER: the DSSE `keyid` and `signingIdentity.keyId`. */
  fingerprint: string;
  /** Lowercase hex serial number of the leaf. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** OIDC issuer from the certificate (not from the token: the CA vouches for it). */
  issuer: string;
  /** Subject alternative name: the identity (email or URI) Fulcio bound the key to. */
  subject: string;
  embeddedSct: boolean;
}

export interface CertificateCheck {
  publicKey: KeyObject;
  /** Refuse a leaf without an embedded SCT (a v0.3 bundle cannot carry a detached one). */
  requireEmbeddedSct: boolean;
}

/**
 * Fails closed on anything but a chain that certifies exactly our ephemeral key: each certificate
 * must be issued and signed by the next one, the leaf must be for code signing, name a subject and
 * carry Fulcio's issuer extension. Trust in the root itself is the verifier's business (it holds
 * the Fulcio trust root); the Signer checks the answer is coherent and about its own key.
 */
export function checkIssuedChain(chainPem: string[], check: CertificateCheck): IssuedCertificate {
  if (chainPem.length < 2)
    throw new FulcioResponseError(`expected a leaf and its issuers, got ${chainPem.length} certificate(s)`);
  let chain: X509Certificate[];
  try {
    chain = chainPem.map((pem) => new X509Certificate(pem));
  } catch {
    throw new FulcioResponseError('a certificate in the chain does not parse');
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      throw new FulcioResponseError(`certificate ${i} is not issued and signed by certificate ${i + 1}`);
    }
  }
  const [leaf] = chain;
  const ours = check.publicKey.export({ type: 'spki', format: 'der' });
  if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(ours)) {
    throw new FulcioResponseError('the leaf certificate is not for the key that requested it');
  }
  if (!(leaf.keyUsage ?? []).includes(OID_CODE_SIGNING)) {
    throw new FulcioResponseError('the leaf certificate is not for code signing');
  }
  const parsed = SigstoreCertificate.parse(leaf.raw);
  const issuer = oidcIssuer(parsed);
  const subject = parsed.subjectAltName;
  if (!issuer) throw new FulcioResponseError('the leaf certificate has no OIDC issuer extension');
  if (!subject) throw new FulcioResponseError('the leaf certificate has no subject alternative name');
  const embeddedSct = parsed.extension(OID_EMBEDDED_SCT_LIST) !== undefined;
  if (check.requireEmbeddedSct && !embeddedSct) {
    throw new FulcioResponseError('the leaf certificate has no embedded SCT');
  }
  return {
    chainPem,
    fingerprint: createHash('sha256').update(leaf.raw).digest('hex'),
    serial: leaf.serialNumber.toLowerCase(),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
    issuer,
    subject,
    embeddedSct,
  };
}

function oidcIssuer(cert: SigstoreCertificate): string | undefined {
  const v2 = cert.extension(OID_FULCIO_ISSUER_V2);
  if (v2) return derUtf8String(v2.value);
  return cert.extension(OID_FULCIO_ISSUER_V1)?.value.toString('utf8');
}

// A DER UTF8String (tag 0x0c) with a short or long-form length; anything else is no issuer.
function derUtf8String(der: Buffer): string | undefined {
  if (der.length < 2 || der[0] !== 0x0c) return undefined;
  let length = der[1];
  let offset = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes < 1 || bytes > 3 || der.length < 2 + bytes) return undefined;
    length = der.subarray(2, 2 + bytes).reduce((n, b) => n * 256 + b, 0);
    offset = 2 + bytes;
  }
  if (der.length !== offset + length) return undefined;
  return der.subarray(offset).toString('utf8');
}
