import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import { RedisConnection } from '@app/redis';
import { AUTH_OPTIONS } from '../auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth.options';

type ThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One fixed window with a block, atomically: KEYS[1] hits, KEYS[2] block;
 * ARGV ttl ms, limit, block ms. Returns {hits, ttl ms, blocked, block ms}.
 * Blocking resets the count, as @nestjs/throttler's memory storage does.
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

/** After a Redis failure, counters stay in memory this long before Redis is tried again (no deadline per request). */
const COOL_DOWN_MS = 1_000;

/**
 * Rate-limit counters in Redis (`{prefix}:rl:…`), shared by every instance;
 * when Redis is down, paused or not configured, each instance counts in
 * memory, so limits still hold (per instance) instead of failing open.
 */
@Injectable()
export class ResilientThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(ResilientThrottlerStorage.name);
  private readonly memory = new ThrottlerStorageService();
  private readonly prefix: string;
  private redisAfter = 0;

  constructor(
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
    @Optional() private readonly redis?: RedisConnection,
  ) {
    this.prefix = resolveAuthOptions(options).prefix;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerRecord> {
    if (this.redis?.isReady && Date.now() >= this.redisAfter) {
      try {
        return await this.incrementInRedis(`${this.prefix}:rl:${name}:${key}`, ttl, limit, blockDuration);
      } catch (error) {
        if (Date.now() >= this.redisAfter) this.logger.warn(`rate limits counted in memory: ${String(error)}`);
        this.redisAfter = Date.now() + COOL_DOWN_MS;
      }
    }
    return this.memory.increment(key, ttl, limit, blockDuration, name);
  }

  onApplicationShutdown(): void {
    this.memory.onApplicationShutdown();
  }

  private async incrementInRedis(key: string, ttl: number, limit: number, block: number): Promise<ThrottlerRecord> {
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
