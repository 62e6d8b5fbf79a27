import { LUA_NOW_MS } from './lua-now';

/**
 * The quota scripts (contract §6). Each runs atomically inside Redis, so no two replicas can both
 * take the last token or slot, and a refused acquire changes nothing but the reclaiming of expired
 * leases. Time is Redis server time (`TIME`) unless a caller passes one (tests with a manual clock),
 * so replicas with skewed clocks still share one bucket, one lease clock and one UTC day.
 *
 * The arithmetic mirrors `memory/quota-math.ts` step for step; the shared conformance suite holds
 * both stores to the same answers. Numbers are stored with `%.17g` so a bucket round-trips exactly.
 *
 * Keys: KEYS[1] = state hash {tokens, refilledAt, fullAt, day, used}, KEYS[2] = lease ZSET
 * (member = lease id, score = expiry in epoch ms).
 */

/** Shared preamble: the current instant in epoch ms and the UTC day number. */
const NOW = `${LUA_NOW_MS}
local DAY_MS = 86400000
local EPSILON = 1e-9
local day = math.floor(now / DAY_MS)
`;

/**
 * ARGV: [1] now ms or '', [2] qps, [3] bucket capacity, [4] concurrency, [5] daily cap,
 * [6] lease ms, [7] lease id.
 * Returns {1, qpsRemaining, day} on success, {0, limit, retryAfterSeconds, observed} on refusal
 * (observed: daily units used, slots held, or tokens ×1000, for the operator message).
 */
export const ACQUIRE_SCRIPT = `${NOW}
local qps = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local concurrency = tonumber(ARGV[4])
local dailyCap = tonumber(ARGV[5])
local leaseMs = tonumber(ARGV[6])

local state = redis.call('HMGET', KEYS[1], 'tokens', 'refilledAt', 'day', 'used')
local tokens = tonumber(state[1])
local refilledAt = tonumber(state[2])
if tokens == nil or refilledAt == nil then
  -- A licence not seen before (or whose state expired with a full bucket) starts full.
  tokens = capacity
  refilledAt = now
end
local used = 0
if tonumber(state[3]) == day then used = tonumber(state[4]) or 0 end

if used >= dailyCap then
  return {0, 'daily', math.max(1, math.ceil(((day + 1) * DAY_MS - now) / 1000)), used}
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local held = redis.call('ZCARD', KEYS[2])
if held >= concurrency then
  return {0, 'concurrency', 1, held}
end

if not (qps > 0) then
  return {0, 'qps', 1, 0}
end
local elapsed = now - refilledAt
if elapsed > 0 then
  tokens = math.min(capacity, tokens + (elapsed * qps) / 1000)
else
  tokens = math.min(capacity, tokens)
end
refilledAt = math.max(refilledAt, now)
if tokens < 1 - EPSILON then
  return {0, 'qps', math.max(1, math.ceil((1 - tokens) / qps - EPSILON)), math.floor(tokens * 1000)}
end

tokens = tokens - 1
used = used + 1
local fullAt = refilledAt + ((capacity - tokens) * 1000) / qps
redis.call('HSET', KEYS[1],
  'tokens', string.format('%.17g', tokens),
  'refilledAt', string.format('%.17g', refilledAt),
  'fullAt', string.format('%.17g', fullAt),
  'day', day,
  'used', used)
-- Keep the state while it differs from a fresh one: today's count, or a bucket not yet full.
local keepMs = math.max((day + 1) * DAY_MS - now, fullAt - now) + 60000
redis.call('PEXPIRE', KEYS[1], math.ceil(keepMs))
redis.call('ZADD', KEYS[2], now + leaseMs, ARGV[7])
local longest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, math.ceil(tonumber(longest[2]) - now)) + 1000)
return {1, math.max(0, math.floor(tokens + EPSILON)), day}
`;

/**
 * ARGV: [1] lease id, [2] outcome ('signed' | 'failed'), [3] UTC day of the acquire.
 * Frees the lease's slot; `failed` gives the daily unit back unless the UTC day has turned. Only a
 * lease still held is refunded, so a release retried after a lost reply (a failover) refunds once.
 */
export const RELEASE_SCRIPT = `
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == 'failed' and removed == 1 then
  local state = redis.call('HMGET', KEYS[1], 'day', 'used')
  if tonumber(state[1]) == tonumber(ARGV[3]) and (tonumber(state[2]) or 0) > 0 then
    redis.call('HINCRBY', KEYS[1], 'used', -1)
  end
end
return 1
`;
