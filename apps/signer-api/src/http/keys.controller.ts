import { Controller, Get, Inject } from '@nestjs/common';
import type { PublicKeyInfo } from '@signer/core';
import type { SignerRuntime } from '../wiring/create-runtime';
import { SIGNER_RUNTIME } from './tokens';

@Controller('api/v1/signer')
export class KeysController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /** `GET /keys` (contract §2.3): public verification material; no auth. */
  @Get('keys')
  async keys(): Promise<{ keys: PublicKeyInfo[]; fulcioChain: string[] }> {
    const keys = await Promise.all(
      this.runtime.signers
        .all()
        .filter((s) => s.mode === 'kms')
        .map((s) => s.describe()),
    );
    return { keys, fulcioChain: [] };
  }
}
