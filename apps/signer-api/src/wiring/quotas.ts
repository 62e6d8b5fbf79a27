import type { Clock, QuotaGate } from '@signer/core';
import { MemoryQuotaGate } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import type { SharedState } from './shared-state';

/** Gate 8: plan quotas, in this process (memory). */
export async function createQuotas(
  _config: SignerConfig,
  _state: SharedState,
  clock: Clock,
): Promise<QuotaGate> {
  return new MemoryQuotaGate({ clock });
}
