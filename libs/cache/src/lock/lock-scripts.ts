// Every key a script touches is in KEYS (KEYS[1] the lock, KEYS[2] its fence
// counter: one Cluster slot through their hash tag, see KeyLayout.lock).

// Takes the lock (SET NX PX) and, in the same atomic step, draws its fencing
// token: one more than the last, and at least Redis's clock in microseconds,
// so tokens keep increasing after the counter expired (ARGV[3]) or was lost
// in a failover, as long as that server's clock is not behind. Returns the
// token, or 0 when another owner holds the lock. ARGV: token, ttl, fence ttl.
export const ACQUIRE_LOCK_SCRIPT = `if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) + 1
if n < floor then n = floor end
redis.call('SET', KEYS[2], string.format('%d', n), 'PX', ARGV[3])
return n`;

// Compare-and-extend: only the owner's token renews. 1 renewed, 0 not ours (or gone).
export const RENEW_LOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

// Compare-and-delete: only the owner's token deletes. 1 deleted, 0 not ours (or gone).
export const RELEASE_LOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
