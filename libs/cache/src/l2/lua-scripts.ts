// Server time in milliseconds: every timestamp the L2 compares (entry
// creation, tag and delete markers) comes from Redis's clock, so clock skew
// between app instances cannot make an invalidated entry look fresh.
const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

// Reads an entry and the newest invalidation marker of its tags (ARGV[1]:
// the marker key prefix). Returns the envelope (or '' for none, a tombstone,
// a foreign value) and that marker (0 when none).
const READ_ENTRY = `local function read(key)
  local v = redis.call('GET', key)
  if not v or string.sub(v, 1, 2) == 'x|' then return '', 0 end
  local nl = string.find(v, '\\n', 1, true)
  if not nl then return '', 0 end
  local tags = string.match(string.sub(v, 1, nl - 1), '|([^|]*)$')
  local newest = 0
  if tags and tags ~= '' then
    local keys = {}
    for tag in string.gmatch(tags, '[^,]+') do keys[#keys + 1] = ARGV[1] .. tag end
    local marks = redis.call('MGET', unpack(keys))
    for i = 1, #marks do
      if marks[i] then local n = tonumber(marks[i]) if n and n > newest then newest = n end end
    end
  end
  return v, newest
end`;

// One entry in one round trip. Returns { envelope | '', newest tag marker, server now }.
export const GET_SCRIPT = `${NOW}
${READ_ENTRY}
local v, newest = read(KEYS[1])
return {v, newest, now}`;

// Several entries in one round trip (mget). Returns { server now, then per
// key: envelope | '', newest tag marker }.
export const GET_MANY_SCRIPT = `${NOW}
${READ_ENTRY}
local out = {now}
for i = 1, #KEYS do
  local v, newest = read(KEYS[i])
  out[#out + 1] = v
  out[#out + 1] = newest
end
return out`;

// Writes an entry stamped with server time. With ARGV[7] (the server time the
// writer's read missed at), the write is refused when, since then, the key
// was deleted, one of its tags invalidated, or a newer entry written: the
// value was loaded before that and must not replace it. Returns the creation
// time, or 0.
export const SET_SCRIPT = `${NOW}
local notBefore = tonumber(ARGV[7])
if notBefore > 0 then
  local current = redis.call('GET', KEYS[1])
  if current then
    local stamp = string.match(current, '^x|(%d+)') or string.match(current, '^v1|(%d+)|')
    if stamp and tonumber(stamp) >= notBefore then return 0 end
  end
  if ARGV[5] ~= '' then
    local keys = {}
    for tag in string.gmatch(ARGV[5], '[^,]+') do keys[#keys + 1] = ARGV[1] .. tag end
    local marks = redis.call('MGET', unpack(keys))
    for i = 1, #marks do
      if marks[i] and tonumber(marks[i]) >= notBefore then return 0 end
    end
  end
end
local expires = now + tonumber(ARGV[2])
local graceUntil = expires + tonumber(ARGV[3])
redis.call('SET', KEYS[1], 'v1|' .. now .. '|' .. expires .. '|' .. graceUntil .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '\\n' .. ARGV[6], 'PX', graceUntil - now)
return now`;

// Writes several entries unguarded (mset, set), atomically, stamped with
// server time: SET_SCRIPT without ARGV[7]. ARGV holds five values per key:
// TTL, grace, schema, tags, payload. Returns the creation time.
export const SET_MANY_SCRIPT = `${NOW}
for i = 1, #KEYS do
  local a = (i - 1) * 5
  local expires = now + tonumber(ARGV[a + 1])
  local graceUntil = expires + tonumber(ARGV[a + 2])
  redis.call('SET', KEYS[i], 'v1|' .. now .. '|' .. expires .. '|' .. graceUntil .. '|' .. ARGV[a + 3] .. '|' .. ARGV[a + 4] .. '\\n' .. ARGV[a + 5], 'PX', graceUntil - now)
end
return now`;

// Replaces entries with short-lived tombstones ("deleted at"), which readers
// treat as misses and SET_SCRIPT uses to refuse late writes.
export const DELETE_SCRIPT = `${NOW}
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'x|' .. now, 'PX', ARGV[1]) end
return now`;

// Stamps tag markers with server time; entries created at or before are invalid.
export const INVALIDATE_TAGS_SCRIPT = `${NOW}
for i = 1, #KEYS do redis.call('SET', KEYS[i], now, 'PX', ARGV[1]) end
return now`;
