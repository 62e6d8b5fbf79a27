import type { Clock, QuotaGate } from '@signer/core';
import { MemoryQuotaGate, RedisQuotaGate } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import type { SharedState } from './shared-state';

/**
 * Gate 8: plan quotas (contract §6). `quotas.store: redis` shares the limits across replicas
 * through atomic scripts on Redis server time; `memory` holds them in this process.
 */
export async function createQuotas(
  config: SignerConfig,
  state: SharedState,
  clock: Clock,
): Promise<QuotaGate> {
  const { leaseSeconds } = config.quotas;
  if (config.quotas.store === 'redis') {
    if (!state.redis) throw new Error('quotas.store is redis but no Redis connection was made');
    return new RedisQuotaGate({ connection: state.redis, leaseSeconds });
  }
  return new MemoryQuotaGate({ clock, leaseSeconds });
}
