import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError, type Clock } from '@signer/core';
import { FakeFulcio, FulcioTestCa, TestOidcIssuer, type FakeFulcioOptions } from '@signer/testing';
import { CertificateSessions, type CertificateSessionsOptions } from '../src/keyless/certificate-sessions';
import { FulcioClient } from '../src/keyless/fulcio-client';
import { IdentityTokenFile } from '../src/keyless/identity-token-file';
import { KeylessSigner } from '../src/keyless/keyless-signer';

export const SIGNER_EMAIL = 'signer@stella-ops.test';

/** A fake Fulcio, its CA and OIDC issuer, and a token file holding a fresh identity token. */
export interface KeylessWorld {
  oidc: TestOidcIssuer;
  ca: FulcioTestCa;
  fulcio: FakeFulcio;
  tokenFile: string;
  writeToken(token: string): void;
  /** `fulcioUrl`: talk to Fulcio through another server (a proxy in front of the fake). */
  signer(options?: Partial<CertificateSessionsOptions> & { clock?: Clock; fulcioUrl?: string }): {
    signer: KeylessSigner;
    sessions: CertificateSessions;
  };
  close(): Promise<void>;
}

export async function startKeylessWorld(
  fulcioOptions: Partial<FakeFulcioOptions> = {},
): Promise<KeylessWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-keyless-'));
  const oidc = await TestOidcIssuer.create();
  const ca = await FulcioTestCa.create();
  const fulcio = await FakeFulcio.start({ oidc, ca, ...fulcioOptions });
  const tokenFile = join(dir, 'identity.jwt');
  const writeToken = (token: string) => writeFileSync(tokenFile, token, { mode: 0o600 });
  writeToken(await oidc.mint({ email: SIGNER_EMAIL }));
  return {
    oidc,
    ca,
    fulcio,
    tokenFile,
    writeToken,
    signer: ({ fulcioUrl, ...options } = {}) => {
      const sessions = new CertificateSessions({
        fulcio: new FulcioClient({ baseUrl: fulcioUrl ?? fulcio.url }),
        token: new IdentityTokenFile({ path: tokenFile, clock: options.clock }),
        ...options,
      });
      return { signer: new KeylessSigner({ sessions, clock: options.clock }), sessions };
    },
    close: async () => {
      await fulcio.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The SignerError a promise rejects with; rethrows anything else, fails if it resolves. */
export async function refusal(promise: Promise<unknown>): Promise<SignerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignerError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
