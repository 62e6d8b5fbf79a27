/**
 * Lua that sets `now` (epoch ms) for a script: `ARGV[1]` when a caller pins it (tests), else the
 * Redis server's `TIME`, so every replica's decision uses one clock.
 */
export const LUA_NOW_MS = `
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;
