import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

const CONFIG = (dir: string) => `
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = ${dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;

/**
 * An RFC 3161 timestamp authority for tests: a root and a signing certificate (critical
 * timeStamping EKU) made here, and `openssl ts -query/-reply` doing the protocol work — a real
 * TimeStampResp, as a Sigstore TSA returns, for `timestampVerificationData.rfc3161Timestamps`.
 */
export class TestTsa {
  private constructor(
    private readonly dir: string,
    readonly root: x509.X509Certificate,
    readonly signer: x509.X509Certificate,
  ) {}

  static async create(now = new Date()): Promise<TestTsa> {
    const dir = mkdtempSync(join(tmpdir(), 'signer-test-tsa-'));
    const notBefore = new Date(now.getTime() - 24 * 3600_000);
    const notAfter = new Date(now.getTime() + 365 * 24 * 3600_000);
    const rootKeys = (await webcrypto.subtle.generateKey(ECDSA, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0a',
      name: 'CN=test-tsa-root, O=stella-ops.test',
      notBefore,
      notAfter,
      keys: rootKeys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    const keys = (await webcrypto.subtle.generateKey(ECDSA, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const signer = await x509.X509CertificateGenerator.create({
      serialNumber: '0b',
      subject: 'CN=test-tsa, O=stella-ops.test',
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    writeFileSync(
      join(dir, 'tsa.key'),
      `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'tsa.crt'), signer.toString('pem'));
    writeFileSync(join(dir, 'serial'), '01\n');
    writeFileSync(join(dir, 'tsa.cnf'), CONFIG(dir));
    return new TestTsa(dir, root, signer);
  }

  /** A TimeStampResp (DER) over SHA-256 of `data`, including the signing certificate. */
  timestamp(data: Buffer): Buffer {
    const input = join(this.dir, 'data.bin');
    writeFileSync(input, data);
    const query = join(this.dir, 'request.tsq');
    const reply = join(this.dir, 'reply.tsr');
    execFileSync('openssl', ['ts', '-query', '-data', input, '-sha256', '-cert', '-out', query], {
      stdio: 'pipe',
    });
    execFileSync(
      'openssl',
      ['ts', '-reply', '-config', join(this.dir, 'tsa.cnf'), '-queryfile', query, '-out', reply],
      {
        stdio: 'pipe',
      },
    );
    return readFileSync(reply);
  }

  /** The chain a verifier trusts for this TSA (signing certificate first). */
  chainDer(): Buffer[] {
    return [Buffer.from(this.signer.rawData), Buffer.from(this.root.rawData)];
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
