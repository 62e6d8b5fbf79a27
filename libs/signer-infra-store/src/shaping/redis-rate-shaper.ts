import type { RateLimit, RateShaper } from '@signer/core';
import type { RedisConnection } from '../redis/redis-connection';
import { assertRateLimit, realSleep, slotIntervalMs, slotRefused, type Sleep } from './rate-slots';

export interface RedisRateShaperOptions {
  connection: RedisConnection;
  sleep?: Sleep;
}

// The same GCRA as `reserveSlot`, atomically in Redis and on Redis' own clock (`TIME`), so
// replicas with skewed clocks still space their slots correctly. Times are microseconds: exact
// in a Lua double until the year 2255. Returns {waitUs, 0} when granted, {-1, retryAfterUs} when not.
const RESERVE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(nextFree, now)
local wait = start - now
if wait > maxWait then return {-1, wait - maxWait} end
local following = start + interval
redis.call('SET', KEYS[1], string.format('%.0f', following), 'PX', math.ceil((following - now) / 1000) + 1000)
return {wait, 0}
`;

/** {@link RateShaper} shared by every replica through one Redis key per shaped key. */
export class RedisRateShaper implements RateShaper {
  private readonly sleep: Sleep;

  constructor(private readonly options: RedisRateShaperOptions) {
    this.sleep = options.sleep ?? realSleep;
  }

  async acquire(key: string, limit: RateLimit): Promise<void> {
    assertRateLimit(limit);
    const { connection } = this.options;
    const intervalUs = Math.round(slotIntervalMs(limit) * 1000);
    const [waitUs, retryAfterUs] = (await connection.run('rate slot', (client) =>
      client.eval(
        RESERVE_SLOT,
        1,
        connection.key('rate', key),
        intervalUs,
        Math.round(limit.maxWaitMs * 1000),
      ),
    )) as [number, number];
    if (waitUs < 0) throw slotRefused(key, retryAfterUs / 1000);
    if (waitUs > 0) await this.sleep(waitUs / 1000);
  }
}
