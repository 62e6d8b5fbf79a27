import { systemClock, type Clock, type RateLimit, type RateShaper } from '@signer/core';
import { assertRateLimit, realSleep, reserveSlot, slotRefused, type Sleep } from './rate-slots';

export interface MemoryRateShaperOptions {
  clock?: Clock;
  /** How a granted caller waits for its slot (tests pass a recorder). */
  sleep?: Sleep;
}

/**
 * Single-process {@link RateShaper}: the slot is reserved synchronously (no await between the
 * check and the update), so concurrent callers never share a slot.
 */
export class MemoryRateShaper implements RateShaper {
  private readonly nextFree = new Map<string, number>();
  private readonly clock: Clock;
  private readonly sleep: Sleep;

  constructor(options: MemoryRateShaperOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(key: string, limit: RateLimit): Promise<void> {
    assertRateLimit(limit);
    const decision = reserveSlot(this.nextFree.get(key), this.clock.now().getTime(), limit);
    if (!decision.granted) throw slotRefused(key, decision.retryAfterMs);
    this.nextFree.set(key, decision.nextFreeMs);
    if (decision.waitMs > 0) await this.sleep(decision.waitMs);
  }
}
