import 'reflect-metadata';
import { randomBytes, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { OID_SCT_LIST, sctListExtensionValue, TestCtLog } from './ct-log';

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface LeafRequest {
  /** SPKI DER of the key being certified. */
  publicKeySpki: Buffer;
  /** The verified OIDC issuer, written to both Fulcio issuer extensions. */
  issuer: string;
  /** Email identity (rfc822Name SAN) or URI identity (uniformResourceIdentifier SAN). */
  san: { email: string } | { uri: string };
  notBefore: Date;
  notAfter: Date;
  embedSct: boolean;
}

// DER UTF8String, as Fulcio encodes the v2 issuer extension.
function utf8String(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length >= 0x80) throw new Error('issuer too long for this test CA');
  return Buffer.concat([Buffer.from([0x0c, bytes.length]), bytes]);
}

const pem = (cert: x509.X509Certificate) => cert.toString('pem');

/**
 * A Fulcio-shaped CA: a self-signed root, an intermediate that issues leaves, and a CT log that
 * signs an SCT embedded in each leaf. Leaves carry Fulcio's OIDs (issuer v1 and v2), code-signing
 * EKU and the identity as SAN — real X.509 that @sigstore/verify can check against {@link chainPem}.
 */
export class FulcioTestCa {
  readonly ctLog = new TestCtLog();

  private constructor(
    readonly root: x509.X509Certificate,
    readonly intermediate: x509.X509Certificate,
    private readonly intermediateKey: CryptoKey,
  ) {}

  static async create(now = new Date()): Promise<FulcioTestCa> {
    const notBefore = new Date(now.getTime() - 24 * 3600_000);
    const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600_000);
    const rootKeys = (await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=sigstore-test-root, O=stella-ops.test',
      notBefore,
      notAfter,
      keys: rootKeys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    const interKeys = (await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const intermediate = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: 'CN=sigstore-test-intermediate, O=stella-ops.test',
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: interKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
        await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    return new FulcioTestCa(root, intermediate, interKeys.privateKey);
  }

  /** The CA chain (intermediate, root) as PEM: what a verifier's Fulcio trust root holds. */
  chainPem(): string[] {
    return [pem(this.intermediate), pem(this.root)];
  }

  /** Issues a leaf; returns [leaf, intermediate, root] as PEM, as Fulcio's API does. */
  async issue(request: LeafRequest): Promise<string[]> {
    const publicKey = await webcrypto.subtle.importKey('spki', request.publicKeySpki, ECDSA, true, [
      'verify',
    ]);
    const serialNumber = `01${randomBytes(19).toString('hex')}`;
    const extensions = [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(this.intermediate),
      new x509.SubjectAlternativeNameExtension(
        'email' in request.san
          ? [{ type: 'email', value: request.san.email }]
          : [{ type: 'url', value: request.san.uri }],
        true,
      ),
      new x509.Extension(OID_FULCIO_ISSUER_V1, false, Buffer.from(request.issuer, 'utf8')),
      new x509.Extension(OID_FULCIO_ISSUER_V2, false, utf8String(request.issuer)),
    ];
    const params = {
      serialNumber,
      subject: '',
      issuer: this.intermediate.subject,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      publicKey,
      signingKey: this.intermediateKey,
      signingAlgorithm: SIGNING,
    };
    const precert = await x509.X509CertificateGenerator.create({ ...params, extensions });
    let leaf = precert;
    if (request.embedSct) {
      // The SCT signs the TBS without the SCT extension: exactly what a verifier rebuilds by
      // removing the extension from the final leaf.
      const tbs = SigstoreCertificate.parse(Buffer.from(precert.rawData)).tbsCertificate.toDER();
      const issuerSpki = new NodeCertificate(Buffer.from(this.intermediate.rawData)).publicKey.export({
        type: 'spki',
        format: 'der',
      });
      const sct = this.ctLog.sign(issuerSpki, tbs, request.notBefore.getTime());
      leaf = await x509.X509CertificateGenerator.create({
        ...params,
        extensions: [...extensions, new x509.Extension(OID_SCT_LIST, false, sctListExtensionValue([sct]))],
      });
    }
    return [pem(leaf), ...this.chainPem()];
  }
}
