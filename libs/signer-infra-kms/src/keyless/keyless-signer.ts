import { createPublicKey, sign } from 'node:crypto';
import {
  SignerError,
  systemClock,
  type Clock,
  type KeySigner,
  type PublicKeyInfo,
  type SignatureResult,
} from '@signer/core';
import { MAX_CLOCK_SKEW_MS, type CertificateSession, type CertificateSessions } from './certificate-sessions';

/** The name keyless signing has among the Signer's keys (`options.keyId` may name it). */
export const KEYLESS_KEY_ID = 'keyless';

export interface KeylessSignerOptions {
  sessions: CertificateSessions;
  clock?: Clock;
  keyId?: string;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const rfc3339 = (date: Date) => date.toISOString().replace(/\.000Z$/, 'Z');

/**
 * Keyless signing (contract §7): ES256 with an ephemeral P-256 key certified by Fulcio for the
 * Signer's own OIDC identity. The signature is made only inside the certificate's usable window
 * (notBefore ≤ now < notAfter − margin), checked on the same tick as the signing itself.
 */
export class KeylessSigner implements KeySigner {
  readonly mode = 'keyless' as const;
  readonly algorithm = 'ES256';
  readonly keyId: string;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: KeylessSignerOptions) {
    this.keyId = options.keyId ?? KEYLESS_KEY_ID;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    const session = await this.options.sessions.current();
    const early = session.certificate.notBefore.getTime() - this.clock.now().getTime();
    // Fulcio's clock may be slightly ahead of ours: wait for notBefore rather than sign before it.
    if (early > 0 && early <= MAX_CLOCK_SKEW_MS) await this.sleep(early);
    return this.signWithin(session, data);
  }

  async describe(): Promise<PublicKeyInfo> {
    const session = this.options.sessions.peek();
    return {
      keyId: this.keyId,
      algorithm: this.algorithm,
      publicKeyPem: session
        ? createPublicKey(session.privateKey).export({ type: 'spki', format: 'pem' }).toString()
        : '',
      ...(session ? { certificateChain: [...session.certificate.chainPem] } : {}),
    };
  }

  private signWithin(session: CertificateSession, data: Buffer): SignatureResult {
    const { certificate } = session;
    const now = this.clock.now().getTime();
    if (now < certificate.notBefore.getTime() || now >= session.useUntilMs) {
      throw new SignerError('upstream_unavailable', 'no Fulcio certificate valid for signing now', {
        upstream: 'fulcio',
        retryAfterSeconds: 1,
      });
    }
    const signature = sign('sha256', data, session.privateKey);
    return {
      signature,
      dsseKeyId: certificate.fingerprint,
      identity: {
        keyId: certificate.fingerprint,
        issuer: certificate.issuer,
        subject: certificate.subject,
        certExpiry: rfc3339(certificate.notAfter),
        certificateSerial: certificate.serial,
      },
      // A copy per signature: the session is shared by every request, the result belongs to one.
      certificateChain: [...certificate.chainPem],
    };
  }
}
