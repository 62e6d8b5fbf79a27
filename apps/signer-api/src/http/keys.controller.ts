import { Controller, Get, Inject } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import type { ManagedState } from '@signer/core';
import type { SignerRuntime } from '../wiring/create-runtime';
import type { KeysResponseSchema } from './response.schemas';
import { SIGNER_RUNTIME } from './tokens';

/** `GET /keys` body: every managed key with its lifecycle, the trust anchors, and the Fulcio chain. */
export type KeysResponse = Static<typeof KeysResponseSchema>;

function publishedKeys(state: ManagedState): KeysResponse['keys'] {
  const { installation, plans } = state.defaults;
  return state.keys.map((key) => ({
    keyId: key.keyId,
    name: key.name,
    algorithm: key.algorithm,
    publicKeyPem: key.publicKeyPem,
    state: key.state,
    validFrom: key.validFrom,
    ...(key.validUntil === undefined ? {} : { validUntil: key.validUntil }),
    ...(key.revokedAt === undefined ? {} : { revokedAt: key.revokedAt }),
    ...(key.revocationReason === undefined ? {} : { revocationReason: key.revocationReason }),
    profile: key.profile,
    history: key.history,
    isDefault: installation === key.name,
    defaultFor: Object.keys(plans)
      .filter((plan) => plans[plan] === key.name)
      .sort(),
  }));
}

@Controller('api/v1/signer')
export class KeysController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /**
   * `GET /keys` (contract §2.3, §11): public verification material; no auth. It is read from this
   * replica's last known managed state and never calls an upstream (no store read, no Fulcio):
   * an unauthenticated endpoint must not be able to trigger upstream calls.
   */
  @Get('keys')
  async keys(): Promise<KeysResponse> {
    const state = this.runtime.keys.view.snapshot();
    const keyless = this.runtime.signers.all().find((s) => s.mode === 'keyless');
    const chain = keyless ? ((await keyless.describe()).certificateChain ?? []) : [];
    return {
      keys: publishedKeys(state),
      fulcioChain: chain.slice(1),
      stateVersion: state.version,
      trustAnchors: state.trustAnchors.map(({ keyId, publicKeyPem, label, addedAt }) => ({
        keyId,
        publicKeyPem,
        ...(label === undefined ? {} : { label }),
        addedAt,
      })),
    };
  }
}
