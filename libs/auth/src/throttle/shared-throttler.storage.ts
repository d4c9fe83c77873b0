import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import { RedisConnection } from '@app/redis';
import { AUTH_RESOLVED_OPTIONS, THROTTLER } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth.options';
import { SharedCounters, type CounterRecord } from './shared-counters';

/**
 * One fixed window with a block, atomically: KEYS[1] hits, KEYS[2] block;
 * ARGV ttl ms, limit, block ms. Returns {hits, ttl ms, blocked, block ms}.
 * Blocking resets the count, as @nestjs/throttler's memory storage does.
 * Both keys share the `{…}` hash tag of the counter, so the script touches
 * one slot (Redis Cluster).
 */
const INCREMENT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {tonumber(ARGV[2]) + 1, blocked, 1, blocked} end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}`;

/** The throttlers counted exactly, one Redis call per request: the credential routes' limits. */
const EXACT = new Set<string>([THROTTLER.authIp, THROTTLER.authEmail]);

/**
 * Rate-limit counters shared by every instance (`{prefix}:rl:…` in Redis).
 *
 * - The login and register limits (`auth-ip`, `auth-email`) are exact: one
 *   script call per attempt, which is rare and worth a round trip.
 * - The general per-caller limit is counted in memory and shared in batches
 *   (`SharedCounters`): no Redis call on the request path.
 *
 * Neither waits on a broken Redis: while the connection's shared breaker is
 * open (`RedisConnection.available`), exact limits count in memory per
 * instance at once instead of failing open or waiting out a deadline.
 */
@Injectable()
export class SharedThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(SharedThrottlerStorage.name);
  private readonly memory = new ThrottlerStorageService();
  private readonly shared: SharedCounters;
  private readonly prefix: string;
  private warned = false;

  constructor(
    @Inject(AUTH_RESOLVED_OPTIONS) options: ResolvedAuthOptions,
    @Optional() private readonly redis?: RedisConnection,
  ) {
    this.prefix = options.prefix;
    this.shared = new SharedCounters(redis, options.throttle.syncMs);
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<CounterRecord> {
    const redisKey = this.redisKey(name, key);
    if (!EXACT.has(name)) return this.shared.hit(`${name}:${key}`, redisKey, ttl, limit, blockDuration);
    if (this.redis?.available) {
      try {
        const record = await this.incrementInRedis(redisKey, ttl, limit, blockDuration);
        this.warned = false;
        return record;
      } catch (error) {
        if (!this.warned) this.logger.warn(`login limits counted in memory until Redis answers: ${String(error)}`);
        this.warned = true;
      }
    }
    return this.memory.increment(key, ttl, limit, blockDuration, name);
  }

  /** A hit of the general limit, synchronously (the guard's fast path; `increment` gives the same answer). */
  hitGeneral(key: string, ttl: number, limit: number, blockDuration: number): CounterRecord {
    return this.shared.hit(`${THROTTLER.user}:${key}`, this.redisKey(THROTTLER.user, key), ttl, limit, blockDuration);
  }

  /** Sends the general-limit counts now (tests; the timer does it every `syncMs`). */
  flush(): Promise<void> {
    return this.shared.sync();
  }

  /**
   * After the HTTP server has closed (no hit can follow) and before the Redis
   * connection closes (a module this one imports shuts down after it).
   */
  async onApplicationShutdown(): Promise<void> {
    this.memory.onApplicationShutdown();
    await this.shared.close();
  }

  /** `{prefix}:rl:{throttler}:{{key}}`: the braces make the counter and its block key one Cluster slot. */
  private redisKey(name: string, key: string): string {
    return `${this.prefix}:rl:${name}:{${key}}`;
  }

  private async incrementInRedis(key: string, ttl: number, limit: number, block: number): Promise<CounterRecord> {
    const reply = await this.redis!.run((client) =>
      client.eval(INCREMENT, { keys: [key, `${key}:block`], arguments: [String(ttl), String(limit), String(block)] }),
    );
    const [hits, ttlMs, blocked, blockMs] = reply as number[];
    return {
      totalHits: hits,
      timeToExpire: Math.ceil(ttlMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockMs / 1000),
    };
  }
}
