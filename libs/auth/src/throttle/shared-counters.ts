import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@app/redis';

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
  /** Local time the window ends; aligned to the Redis key's PTTL after each sync. */
  endsAt: number;
  /** The shared total at the last sync: every instance's hits, ours included. */
  shared: number;
  /** Our hits on their way to Redis (one sync in flight). */
  sending: number;
  /** Our hits since, not sent yet. */
  unsent: number;
  blockedUntil: number;
}

/** Keys per sync round trip; the rest wait for the next tick. */
const MAX_BATCH = 1_000;
/** How often windows that ended are dropped from memory. */
const SWEEP_MS = 5_000;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * Fixed-window counters counted in memory and shared through Redis in
 * batches. A hit is decided locally, against the shared total read at the
 * last sync plus this instance's hits since, so no request waits on Redis.
 * Every `syncMs` the hits counted since are added to the Redis counters
 * (`INCRBY`, `PEXPIRE NX`, `PTTL` in one `MULTI` per key: each key is its own
 * slot, so this works on Redis Cluster) and the totals read back.
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
  private syncing?: Promise<void>;
  private lastSweep = Date.now();
  private failing = false;

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
      window = { redisKey, ttlMs, endsAt: now + ttlMs, shared: 0, sending: 0, unsent: 0, blockedUntil: 0 };
      this.windows.set(key, window);
    }
    window.unsent++;
    if (this.timer) this.dirty.add(window);
    const hits = window.shared + window.sending + window.unsent;
    if (hits > limit) {
      window.blockedUntil = now + blockMs;
      return blocked(window, limit, now);
    }
    return { totalHits: hits, timeToExpire: seconds(window.endsAt - now), isBlocked: false, timeToBlockExpire: 0 };
  }

  /** Sends the hits counted since the last sync and reads the totals back (one round trip per batch). */
  sync(): Promise<void> {
    this.syncing ??= this.syncBatch().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Stops the timer; the hits not yet sent are dropped (their windows die with the process anyway). */
  stop(): void {
    clearInterval(this.timer);
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
    for (const window of this.dirty) {
      this.dirty.delete(window);
      window.sending = window.unsent;
      window.unsent = 0;
      batch.push(window);
      if (batch.length === MAX_BATCH) break;
    }
    try {
      const replies = await redis.run((client) =>
        Promise.all(
          batch.map((w) =>
            client.multi().incrBy(w.redisKey, w.sending).pExpire(w.redisKey, w.ttlMs, 'NX').pTTL(w.redisKey).exec(),
          ),
        ),
      );
      const now = Date.now();
      batch.forEach((window, i) => {
        const [total, , pttl] = replies[i] as unknown as [number, number, number];
        window.shared = total;
        window.sending = 0;
        if (pttl > 0) window.endsAt = now + pttl;
      });
      if (this.failing) this.logger.log('rate limits shared through Redis again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`rate limits counted per instance until Redis answers: ${String(error)}`);
      this.failing = true;
      const now = Date.now();
      for (const window of batch) {
        window.unsent += window.sending;
        window.sending = 0;
        if (window.endsAt > now) this.dirty.add(window);
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now && window.blockedUntil <= now && window.sending === 0) {
        this.windows.delete(key);
        this.dirty.delete(window);
      }
    }
  }
}

function blocked(window: Window, limit: number, now: number): CounterRecord {
  return {
    totalHits: Math.max(limit + 1, window.shared + window.sending + window.unsent),
    timeToExpire: seconds(window.endsAt - now),
    isBlocked: true,
    timeToBlockExpire: seconds(window.blockedUntil - now),
  };
}
