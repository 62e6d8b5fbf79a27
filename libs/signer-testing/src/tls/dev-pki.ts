import { createHash, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let library: Promise<typeof X509> | undefined;

/** Loaded on first use: @peculiar/x509 costs ~0.2 s to load, and most users of this lib never need it. */
function x509(): Promise<typeof X509> {
  library ??= (async () => {
    await import('reflect-metadata'); // @peculiar/x509 needs a Reflect polyfill first
    const loaded = await import('@peculiar/x509');
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<typeof loaded.cryptoProvider.set>[0]);
    return loaded;
  })();
  return library;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate with its private key, as files and TLS options want them. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** DER of the certificate (what a TLS peer presents). */
  der: Buffer;
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER)). */
  thumbprint: string;
}

type KeyPair = Awaited<ReturnType<typeof webcrypto.subtle.generateKey>> & {
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
};

let serial = 1;
const nextSerial = () => (Date.now() * 1000 + (serial++ % 1000)).toString(16);

async function keyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

async function issued(certificate: X509.X509Certificate, keys: KeyPair): Promise<IssuedCertificate> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const der = Buffer.from(certificate.rawData);
  return {
    certPem: certificate.toString('pem'),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .trim()}\n-----END PRIVATE KEY-----\n`,
    der,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
  };
}

const validity = () => ({
  notBefore: new Date(Date.now() - DAY_MS),
  notAfter: new Date(Date.now() + 30 * DAY_MS),
});

/**
 * A throwaway certificate authority with real P-256 keys, for HTTPS and mTLS tests: it issues a
 * server certificate for loopback and client certificates; `selfSigned` makes a certificate that
 * chains to no CA at all.
 */
export class DevPki {
  private constructor(
    private readonly keys: KeyPair,
    private readonly certificate: X509.X509Certificate,
    readonly ca: IssuedCertificate,
  ) {}

  static async create(name = 'Stella Ops Dev CA'): Promise<DevPki> {
    const x = await x509();
    const keys = await keyPair();
    const certificate = await x.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name: `CN=${name}`,
      ...validity(),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x.BasicConstraintsExtension(true, 0, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign, true),
      ],
    });
    return new DevPki(keys, certificate, await issued(certificate, keys));
  }

  /** A server certificate for 127.0.0.1 and localhost. */
  async issueServer(): Promise<IssuedCertificate> {
    const x = await x509();
    return this.issue('CN=127.0.0.1', x.ExtendedKeyUsage.serverAuth, [
      new x.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ]);
  }

  /** A client certificate (clientAuth) for the given caller name. */
  async issueClient(commonName: string): Promise<IssuedCertificate> {
    const x = await x509();
    return this.issue(`CN=${commonName}`, x.ExtendedKeyUsage.clientAuth, []);
  }

  /** A client certificate signed by its own key: it chains to no CA. */
  static async selfSigned(commonName: string): Promise<IssuedCertificate> {
    const x = await x509();
    const keys = await keyPair();
    const certificate = await x.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name: `CN=${commonName}`,
      ...validity(),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.clientAuth])],
    });
    return issued(certificate, keys);
  }

  private async issue(subject: string, usage: string, extra: X509.Extension[]): Promise<IssuedCertificate> {
    const x = await x509();
    const keys = await keyPair();
    const certificate = await x.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: this.certificate.subject,
      ...validity(),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x.BasicConstraintsExtension(false, undefined, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
        new x.ExtendedKeyUsageExtension([usage]),
        ...extra,
      ],
    });
    return issued(certificate, keys);
  }
}
