/** Wire shapes of the ceremony routes (contract §11), as the Signer sends them. */

export type CeremonyOperation =
  | {
      kind: 'key.register';
      name: string;
      ref: string;
      profile?: string;
      validFrom?: string;
      validUntil?: string;
    }
  | { kind: 'key.activate'; name: string }
  | { kind: 'key.retire'; name: string }
  | { kind: 'key.revoke'; name: string; reason: string }
  | { kind: 'key.set-default'; name: string; plan?: string }
  | { kind: 'trust-anchor.add'; publicKeyPem: string; label?: string }
  | { kind: 'trust-anchor.remove'; keyId: string };

export type CeremonyStatus = 'pending' | 'approved' | 'rejected' | 'executed' | 'expired' | 'cancelled';

export interface CeremonyPrincipal {
  sub: string;
  tenant?: string;
  clientId?: string;
}

export interface CeremonyVote {
  principal: CeremonyPrincipal;
  at: string;
  reason?: string;
}

export interface Ceremony {
  id: string;
  operation: CeremonyOperation;
  status: CeremonyStatus;
  initiator: CeremonyPrincipal;
  createdAt: string;
  expiresAt: string;
  threshold: number;
  approvals: CeremonyVote[];
  rejections: CeremonyVote[];
  decidedAt?: string;
  executedBy?: CeremonyPrincipal;
  resultVersion?: number;
  revision: number;
}

export interface CeremonyList {
  ceremonies: Ceremony[];
}

export const CEREMONIES_PATH = '/api/v1/signer/ceremonies';
