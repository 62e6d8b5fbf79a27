import { LUA_NOW_MS } from './lua-now';

/**
 * The idempotency scripts: each claim, completion and release is one atomic Lua script, so the
 * byte accounting holds across replicas (no read-modify-write from Node). Time is Redis server
 * time (`TIME`) unless a caller passes one (tests with a manual clock). The logic mirrors
 * `MemoryIdempotencyStore` step for step; one conformance suite holds both to the same answers.
 *
 * Every key arrives in KEYS and all share one hash tag (`{idem}`), so on Redis Cluster each script
 * runs on one master and the overall byte budget stays one atomic account (see
 * `idempotencyKeys`). KEYS: [1] `records` (HASH record key → JSON; the script judges liveness by
 * the scores below), [2] `pending` (ZSET key → lease expiry ms), [3] `done` (ZSET key →
 * completion ms), [4] `meta` (HASH key → "<bytes> <tenant tag>"), [5] `tenants` (HASH tenant tag →
 * bytes), [6] `total` (bytes), [7] `byTenant` (ZSET, all scores 0, members "<tenant tag>
 * <completion ms, 15 digits> <key>": each tenant's completed keys, oldest first by lex range).
 * Every key expires a little after the last record it could describe.
 *
 * ARGV common to all scripts: [1] now ms or '', [2] unused (was the key prefix), [3] record key,
 * [4] tenant tag, [5] ttl ms, [6] lease ms, [7] min retention ms, [8] max bytes per tenant,
 * [9] max bytes.
 */
const PREAMBLE = `${LUA_NOW_MS}
local key = ARGV[3]
local tenant = ARGV[4]
local ttl = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
local minRetention = tonumber(ARGV[7])
local maxTenant = tonumber(ARGV[8])
local maxTotal = tonumber(ARGV[9])
local RECORDS, PENDING, DONE, META, TENANTS, TOTAL, BY_TENANT =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local SWEEP = 100
local MAX_EVICTIONS = 1000

local function tenantMember(owner, doneAt, k)
  return owner .. ' ' .. string.format('%015d', tonumber(doneAt)) .. ' ' .. k
end

-- The oldest completed key of a tenant: {key, completion ms}, or nil.
local function oldestOf(owner)
  local first = redis.call('ZRANGEBYLEX', BY_TENANT, '[' .. owner .. ' ', '(' .. owner .. '!', 'LIMIT', 0, 1)[1]
  if not first then return nil end
  local sp = string.find(first, ' ', #owner + 2, true)
  return {string.sub(first, sp + 1), tonumber(string.sub(first, #owner + 2, sp - 1))}
end

local function uncharge(k)
  local m = redis.call('HGET', META, k)
  if not m then return end
  local sp = string.find(m, ' ', 1, true)
  local bytes = tonumber(string.sub(m, 1, sp - 1))
  local owner = string.sub(m, sp + 1)
  local doneAt = redis.call('ZSCORE', DONE, k)
  if doneAt then redis.call('ZREM', BY_TENANT, tenantMember(owner, doneAt, k)) end
  redis.call('HDEL', META, k)
  redis.call('ZREM', PENDING, k)
  redis.call('ZREM', DONE, k)
  if redis.call('HINCRBY', TENANTS, owner, -bytes) <= 0 then redis.call('HDEL', TENANTS, owner) end
  if redis.call('DECRBY', TOTAL, bytes) <= 0 then redis.call('DEL', TOTAL) end
end

local function drop(k)
  redis.call('HDEL', RECORDS, k)
  uncharge(k)
end

local function charge(k, bytes, done)
  local keep = ttl + lease + 60000
  redis.call('HSET', META, k, bytes .. ' ' .. tenant)
  redis.call('HINCRBY', TENANTS, tenant, bytes)
  redis.call('INCRBY', TOTAL, bytes)
  if done then
    redis.call('ZADD', DONE, now, k)
    redis.call('ZADD', BY_TENANT, 0, tenantMember(tenant, now, k))
    redis.call('PEXPIRE', BY_TENANT, keep)
    redis.call('PEXPIRE', DONE, keep)
  else
    redis.call('ZADD', PENDING, now + lease, k)
    redis.call('PEXPIRE', PENDING, keep)
  end
  for _, name in ipairs({RECORDS, META, TENANTS, TOTAL}) do redis.call('PEXPIRE', name, keep) end
end

local function sweep()
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', PENDING, '-inf', now, 'LIMIT', 0, SWEEP)) do drop(k) end
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', DONE, '-inf', now - ttl, 'LIMIT', 0, SWEEP)) do drop(k) end
end

-- The record of this key if it is live by the script's clock (a lapsed one is dropped).
local function live()
  local rec = redis.call('HGET', RECORDS, key)
  local leaseEnd = redis.call('ZSCORE', PENDING, key)
  local doneAt = redis.call('ZSCORE', DONE, key)
  if rec and ((leaseEnd and tonumber(leaseEnd) <= now) or (doneAt and tonumber(doneAt) + ttl <= now)) then
    rec = false
  end
  if not rec then drop(key) end
  return rec
end

-- Whether a record is the claim with this id (a claim's JSON is small; a completed one has none).
local function heldBy(rec, id)
  if not rec or #rec > 1024 then return false end
  local ok, decoded = pcall(cjson.decode, rec)
  return ok and type(decoded) == 'table' and decoded['claimId'] == id
end

-- Evicts completed records past their minimum retention, oldest first, until bytes more fit both
-- budgets. Returns nil, or {budget, limit, retryAfterSeconds} when they cannot.
local function makeRoom(bytes)
  local budgets = {{'tenant', TENANTS, maxTenant}, {'overall', nil, maxTotal}}
  local evictions = 0
  for _, b in ipairs(budgets) do
    while true do
      local used
      if b[2] then used = tonumber(redis.call('HGET', b[2], tenant) or '0')
      else used = tonumber(redis.call('GET', TOTAL) or '0') end
      if used + bytes <= b[3] then break end
      local oldest
      if b[2] then oldest = oldestOf(tenant)
      else
        local first = redis.call('ZRANGE', DONE, 0, 0, 'WITHSCORES')
        if #first > 0 then oldest = {first[1], tonumber(first[2])} end
      end
      if not oldest or evictions >= MAX_EVICTIONS then return {b[1], b[3], 1} end
      local completedAt = oldest[2]
      if completedAt + minRetention > now then
        return {b[1], b[3], math.max(1, math.ceil((completedAt + minRetention - now) / 1000))}
      end
      drop(oldest[1])
      evictions = evictions + 1
    end
  end
  return nil
end
`;

/**
 * ARGV[10] fingerprint-and-claim JSON to store, [11] its cost in bytes.
 * Returns {'claimed'}, {'exists', record JSON} or {'full', budget, limit, retryAfterSeconds}.
 */
export const CLAIM_SCRIPT = `${PREAMBLE}
sweep()
local rec = live()
if rec then return {'exists', rec} end
local bytes = tonumber(ARGV[11])
local full = makeRoom(bytes)
if full then return {'full', full[1], full[2], full[3]} end
redis.call('HSET', RECORDS, key, ARGV[10])
charge(key, bytes, false)
return {'claimed'}
`;

/**
 * ARGV[10] the claim id, [11] the completed record JSON, [12] its cost in bytes.
 * Returns 1 when stored, 0 when another live claim or record holds the key (left as it is).
 */
export const COMPLETE_SCRIPT = `${PREAMBLE}
sweep()
local rec = live()
if rec and not heldBy(rec, ARGV[10]) then return 0 end
drop(key)
local bytes = tonumber(ARGV[12])
-- This request already ran: its answer is kept even past the budget (new claims then wait).
makeRoom(bytes)
redis.call('HSET', RECORDS, key, ARGV[11])
charge(key, bytes, true)
return 1
`;

/** ARGV[10] the claim id. Returns 1 when released, 0 when the key is not that claim. */
export const RELEASE_SCRIPT = `${PREAMBLE}
if not heldBy(redis.call('HGET', RECORDS, key), ARGV[10]) then return 0 end
drop(key)
return 1
`;
