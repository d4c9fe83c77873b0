import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { isErrorReply, redisScript, sendScript, type RedisConnection } from '@app/redis';

/** What `@nestjs/throttler` expects back from a storage (times in seconds). */
export interface CounterRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** One caller's fixed window on this instance. */
interface Window {
  readonly redisKey: string;
  readonly ttlMs: number;
  /** This instance's field in the window's Redis hash: its id and this window's generation. */
  readonly field: string;
  /** Local time the window ends; aligned to the Redis key's PTTL after each sync. */
  endsAt: number;
  /** Our hits in this window, all of them (sent or not). */
  hits: number;
  /** The shared total at the last sync: every instance's hits, `acked` of ours included. */
  shared: number;
  /** Our hits that `shared` includes: the count the last acknowledged sync sent. */
  acked: number;
  blockedUntil: number;
}

/**
 * Windows per sync (one round trip: node-redis writes the scripts together);
 * the rest, first in line, go at the next tick. Enough that callers' windows
 * do not queue behind a burst of new callers for more than a few ticks.
 */
const MAX_BATCH = 5_000;
/** How often windows that ended are dropped from memory. */
const SWEEP_MS = 5_000;
/** At most one log line per this long about windows Redis refused. */
const REFUSAL_LOG_MS = 60_000;

/**
 * One window's sync: KEYS[1] is the window's hash, field `n` the shared
 * total and one field per instance window (ARGV[1]) its own count so far.
 * ARGV[2] is that count (absolute), ARGV[3] the key's TTL if it has none
 * (see `windowTtl`), ARGV[4] the
 * count to assume already added when the instance's field is missing (see
 * `assumedAdded`).
 *
 * Absolute counts make a sync idempotent: a sync that missed its deadline
 * but ran, then sent again with the hits counted since, adds only those.
 * When the instance's field is gone although a sync was acknowledged and
 * the window was about to end, the window ended in Redis first (the key
 * expired): only the hits since that sync may belong to the new window, and
 * only they are added (ARGV[4] is the acknowledged count). Gone mid-window,
 * Redis lost the key (restarted empty, flushed, evicted, a failover to a
 * replica that had not received it): the whole count is added again
 * (ARGV[4] is 0), so the window keeps what it had counted. A counter of the
 * earlier format (a string `INCRBY` wrote) becomes the hash's total, with
 * its TTL: after an upgrade the window keeps what it had counted. Anything
 * else at the key (another type, a string that is no count) is refused with
 * an error reply before any write, and left as it is.
 */
const SYNC_SCRIPT = redisScript(`
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  local total = redis.call('GET', KEYS[1])
  if not string.match(total, '^%d+$') then
    return redis.error_reply('ERR rate-limit window key holds a string that is no count')
  end
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'n', total)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
local hits = tonumber(ARGV[2])
local before = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[4])
if hits > before then
  redis.call('HINCRBY', KEYS[1], 'n', hits - before)
  redis.call('HSET', KEYS[1], ARGV[1], hits)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX')
return {tonumber(redis.call('HGET', KEYS[1], 'n') or '0'), redis.call('PTTL', KEYS[1])}`);

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * Fixed-window counters counted in memory and shared through Redis in
 * batches. A hit is decided locally, against the shared total read at the
 * last sync plus this instance's hits since, so no request waits on Redis.
 * Every `syncMs` each window with new hits runs `SYNC_SCRIPT` (one key per
 * call, so this works on Redis Cluster; the calls of a sync share one round
 * trip), which stores this instance's count and reads the total back.
 *
 * A sync is idempotent: it sends this instance's count so far, not the hits
 * since the last sync, so one that missed its deadline but ran on Redis
 * (a slow or paused server) is not counted again when the next one sends.
 *
 * Bound: an instance syncs the windows it counted hits in, so another
 * instance's hits reach its decisions at the first sync after a hit of its
 * own: one sync interval (plus a round trip) after that hit at most. Until
 * then it decides on the total it saw last, so with N instances a caller can
 * get at most about N × (its hits on one instance during one interval) more
 * than the limit per window. On one instance the limit is exact. While Redis is
 * unavailable each instance counts alone (a limit per instance, not none),
 * and its counts are sent when Redis answers again.
 */
export class SharedCounters {
  private readonly logger = new Logger(SharedCounters.name);
  private readonly windows = new Map<string, Window>();
  private readonly dirty = new Set<Window>();
  private readonly timer?: NodeJS.Timeout;
  /** This instance in the windows' hashes; with `generation`, one field per window it counted. */
  private readonly instance = randomBytes(6).toString('base64url');
  private generation = 0;
  private syncing?: Promise<void>;
  private lastSweep = Date.now();
  private failing = false;
  private lastRefusalLog = -Infinity;

  constructor(
    private readonly redis: RedisConnection | undefined,
    syncMs: number,
  ) {
    if (redis?.enabled) {
      this.timer = setInterval(() => void this.sync(), syncMs);
      this.timer.unref();
    }
  }

  /** Counts one hit of `key` and tells whether it is over `limit`. */
  hit(key: string, redisKey: string, ttlMs: number, limit: number, blockMs: number): CounterRecord {
    const now = Date.now();
    let window = this.windows.get(key);
    if (window && window.blockedUntil > now) return blocked(window, limit, now);
    if (!window || now >= window.endsAt) {
      if (window) this.dirty.delete(window);
      const field = `${this.instance}:${(this.generation++).toString(36)}`;
      window = { redisKey, ttlMs, field, endsAt: now + ttlMs, hits: 0, shared: 0, acked: 0, blockedUntil: 0 };
      this.windows.set(key, window);
    }
    window.hits++;
    if (this.timer) this.dirty.add(window);
    const hits = total(window);
    if (hits > limit) {
      window.blockedUntil = now + blockMs;
      return blocked(window, limit, now);
    }
    return { totalHits: hits, timeToExpire: seconds(window.endsAt - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  /** Sends the counts of the windows with new hits and reads the totals back (one round trip per batch). */
  sync(): Promise<void> {
    this.syncing ??= this.syncBatch().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /**
   * Stops the timer and sends the hits not yet shared, so that the other
   * instances' totals keep them after this one is gone (a rolling deploy
   * would otherwise forget up to one interval of each caller's hits). Each
   * sync runs under the connection's deadline and breaker: with Redis down
   * this returns at once, the unsent hits dropped.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (!this.timer) return;
    await this.syncing;
    // One batch per sync: a backlog of more than MAX_BATCH windows takes several; a failure ends it.
    while (this.dirty.size > 0 && this.redis?.available) {
      await this.sync();
      if (this.failing) return;
    }
  }

  /** Windows held in memory (for tests and stats). */
  get size(): number {
    return this.windows.size;
  }

  private async syncBatch(): Promise<void> {
    this.sweep();
    const redis = this.redis;
    if (!redis?.available || this.dirty.size === 0) return;
    const batch: Window[] = [];
    const started = Date.now();
    for (const window of this.dirty) {
      this.dirty.delete(window);
      // A window that ended here stays out: its count could land in the next window's key.
      if (window.endsAt <= started) continue;
      batch.push(window);
      if (batch.length === MAX_BATCH) break;
    }
    if (batch.length === 0) return;
    const sent = batch.map((w) => w.hits);
    const margin = 2 * redis.commandTimeoutMs;
    const assumed = batch.map((w) => assumedAdded(w, started, margin));
    let replies: PromiseSettledResult<[number, number]>[];
    try {
      replies = await redis.run(async (client) => {
        const settled = await Promise.allSettled(
          batch.map((w, i) =>
            sendScript<[number, number]>(
              client,
              SYNC_SCRIPT,
              [w.redisKey],
              [w.field, String(sent[i]), String(windowTtl(w, started, assumed[i])), String(assumed[i])],
            ),
          ),
        );
        // A lost connection fails the batch (and counts against Redis's health); a refused key fails only itself.
        const lost = settled.find((r) => r.status === 'rejected' && !isErrorReply(r.reason));
        if (lost) throw (lost as PromiseRejectedResult).reason;
        return settled;
      });
    } catch (error) {
      if (!this.failing) this.logger.warn(`rate limits counted per instance until Redis answers: ${String(error)}`);
      this.failing = true;
      // Sent again, whole, at the next sync: what Redis already applied is not added twice.
      const now = Date.now();
      for (const window of batch) if (window.endsAt > now) this.dirty.add(window);
      return;
    }
    const now = Date.now();
    let refused: Error | undefined;
    batch.forEach((window, i) => {
      const reply = replies[i];
      if (reply.status === 'rejected') {
        // Counted here alone until it ends; its next hit makes it try again.
        refused ??= reply.reason as Error;
        return;
      }
      const [shared, pttl] = reply.value;
      window.shared = shared;
      window.acked = sent[i];
      if (pttl > 0) window.endsAt = now + pttl;
    });
    if (this.failing) this.logger.log('rate limits shared through Redis again');
    this.failing = false;
    if (refused !== undefined && now - this.lastRefusalLog >= REFUSAL_LOG_MS) {
      this.lastRefusalLog = now;
      this.logger.warn(`Redis refused a rate-limit window (counted per instance meanwhile): ${refused.message}`);
    }
  }

  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now && window.blockedUntil <= now) {
        this.windows.delete(key);
        this.dirty.delete(window);
      }
    }
  }
}

/**
 * What the sync script assumes Redis already holds of this window's count
 * when this instance's field is missing. The window's end here was aligned
 * to the key's PTTL at the last sync, so Redis's copy expires at most one
 * round trip (under a command deadline) before it; this sync runs on Redis
 * within one more. Until then a missing field means Redis lost the key,
 * which must get the whole count back (0: nothing assumed). Only nearer the
 * end may the key have expired first, and then the hits the last sync sent
 * belong to the window that ended.
 */
function assumedAdded(window: Window, now: number, margin: number): number {
  return window.endsAt - now > margin ? 0 : window.acked;
}

/**
 * The TTL a sync gives the window's key when it has none (`PEXPIRE … NX`):
 * a new window's whole length, but what is left of it when Redis may have
 * lost a key it had acknowledged, so that a window put back keeps its end.
 */
function windowTtl(window: Window, now: number, assumed: number): number {
  return window.acked > 0 && assumed === 0 ? Math.max(1, window.endsAt - now) : window.ttlMs;
}

/** The hits a decision counts: the shared total at the last sync, and ours since. */
function total(window: Window): number {
  return window.shared + window.hits - window.acked;
}

function blocked(window: Window, limit: number, now: number): CounterRecord {
  return {
    totalHits: Math.max(limit + 1, total(window)),
    timeToExpire: seconds(window.endsAt - now),
    isBlocked: true,
    timeToBlockExpire: seconds(window.blockedUntil - now),
  };
}
