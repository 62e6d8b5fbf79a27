import { Controller, Get, Inject } from '@nestjs/common';
import type { PublicKeyInfo } from '@signer/core';
import type { SignerRuntime } from '../wiring/create-runtime';
import { SIGNER_RUNTIME } from './tokens';

/** `GET /keys` body: every named key, and the CA chain of the keyless certificate in use. */
export interface KeysResponse {
  keys: PublicKeyInfo[];
  /** Issuing chain (intermediates, then root) of the current Fulcio certificate; empty before the first. */
  fulcioChain: string[];
}

@Controller('api/v1/signer')
export class KeysController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /**
   * `GET /keys` (contract §2.3): public verification material; no auth. Reading it never calls
   * Fulcio: an unauthenticated endpoint must not be able to trigger certificate requests.
   */
  @Get('keys')
  async keys(): Promise<KeysResponse> {
    const signers = this.runtime.signers.all();
    const keys = await Promise.all(
      signers
        .filter((s) => s.mode === 'kms')
        .map(async (s) => {
          const { keyId, algorithm, publicKeyPem } = await s.describe();
          return { keyId, algorithm, publicKeyPem };
        }),
    );
    const keyless = signers.find((s) => s.mode === 'keyless');
    const chain = keyless ? ((await keyless.describe()).certificateChain ?? []) : [];
    return { keys, fulcioChain: chain.slice(1) };
  }
}
