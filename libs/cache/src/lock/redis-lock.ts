import { Logger } from '@nestjs/common';
import { isErrorReply, redisScript, type RedisConnection } from '@app/redis';
import { randomUUID } from 'node:crypto';
import type { CacheStats } from '../cache-stats';
import type { CircuitBreaker } from '../circuit-breaker';
import type { KeyLayout } from '../keys';
import { DistributedLock, type Lease, type LockAttempt, type LockDefaults } from './distributed-lock';
import { LockLease } from './lock-lease';
import { lockName } from './lock-name';
import { ACQUIRE_LOCK_SCRIPT, RELEASE_LOCK_SCRIPT, RENEW_LOCK_SCRIPT } from './lock-scripts';
import { LockWaiters } from './lock-waiters';

const SCRIPTS = {
  acquire: redisScript(ACQUIRE_LOCK_SCRIPT),
  renew: redisScript(RENEW_LOCK_SCRIPT),
  release: redisScript(RELEASE_LOCK_SCRIPT),
};

/** How long a lock's fence counter outlives its last acquisition (the clock floor covers an expired one). */
export const FENCE_TTL_MS = 24 * 3600 * 1000;

/** What a `RedisLock` shares with the tiered cache. */
export interface RedisLockContext {
  redis: RedisConnection;
  keys: KeyLayout;
  /** The cache's breaker: lock failures feed it, and while it is open nothing is sent. */
  breaker: CircuitBreaker;
  stats: CacheStats;
  /** Tells the other instances that these locks (safe names) were released (the cache bus). */
  announce: (names: string[]) => Promise<void>;
}

/**
 * `DistributedLock` on the cache's Redis connection: `SET NX PX` plus a
 * fencing token in one script, compare-and-extend renewal, compare-and-delete
 * release. One Redis master decides (this is not Redlock): a failover can
 * lose a lock, which is what fencing tokens are for. Waiters are woken by
 * release notices on the cache bus; a slow poll (`pollMs`) covers a lost one.
 */
export class RedisLock extends DistributedLock {
  private readonly logger = new Logger('DistributedLock');
  private readonly waiters = new LockWaiters();

  constructor(
    private readonly ctx: RedisLockContext,
    defaults: LockDefaults,
  ) {
    super(defaults);
    ctx.breaker.onChange((state) => {
      if (state === 'open') this.waiters.wakeAll();
    });
  }

  async attempt(name: string, options: { ttlMs?: number } = {}): Promise<LockAttempt> {
    const ttlMs = this.ttlOf(options.ttlMs);
    const safe = lockName(name);
    const { stats, breaker } = this.ctx;
    if (!breaker.closed) {
      stats.lockEvent('skipped');
      return { reason: 'unavailable' };
    }
    const keys = this.ctx.keys.lock(safe);
    const token = randomUUID();
    const sentAt = Date.now();
    let fence: number;
    try {
      const reply = await this.ctx.redis.script(
        SCRIPTS.acquire,
        [keys.lock, keys.fence],
        [token, String(ttlMs), String(FENCE_TTL_MS)],
      );
      breaker.success();
      fence = Number(reply);
    } catch (error) {
      this.noteFailure(error);
      stats.lockEvent('failed');
      this.logger.warn(`lock "${safe}" not acquired, Redis failed: ${describe(error)}`);
      return { reason: 'unavailable' };
    }
    if (fence === 0) return { reason: 'busy' };
    stats.lockEvent('acquired');
    const lease = new LockLease(name, token, fence, ttlMs, sentAt, {
      renew: (l) => this.renew(keys.lock, l, ttlMs),
      release: (l) => this.release(safe, keys.lock, l),
      lost: (_lease, cause) => {
        stats.lockEvent('lost');
        this.logger.warn(`lock "${safe}" lost${cause ? `: ${describe(cause)}` : ' (another owner or expired)'}`);
      },
    });
    return { lease };
  }

  waitForRelease(name: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.ctx.breaker.closed) return Promise.resolve(true);
    return this.waiters.wait(lockName(name), timeoutMs, signal);
  }

  /** Release notices from other instances (safe names, as announced). */
  notifyReleased(names: readonly string[]): void {
    this.waiters.wake(names);
  }

  protected timedOut(): void {
    this.ctx.stats.lockEvent('busy');
  }

  /** A failure the breaker counts: not an error reply (Redis answered), as on the cache's reads and writes. */
  private noteFailure(error: unknown): void {
    if (!isErrorReply(error)) this.ctx.breaker.failure();
  }

  private async renew(key: string, lease: Lease, ttlMs: number): Promise<'held' | 'lost'> {
    try {
      const reply = await this.ctx.redis.script(SCRIPTS.renew, [key], [lease.token, String(ttlMs)]);
      this.ctx.breaker.success();
      return Number(reply) === 1 ? 'held' : 'lost';
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  private async release(safe: string, key: string, lease: Lease): Promise<boolean> {
    let deleted = false;
    // A release runs in `finally` on the request path: with the breaker open
    // it must not wait on Redis. The key then expires within its ttl.
    if (!this.ctx.breaker.closed) {
      this.waiters.wake([safe]);
      return false;
    }
    try {
      deleted = Number(await this.ctx.redis.script(SCRIPTS.release, [key], [lease.token])) === 1;
      this.ctx.breaker.success();
    } catch (error) {
      this.noteFailure(error);
      this.logger.warn(`lock "${safe}" not released (it expires in its ttl): ${describe(error)}`);
    }
    this.waiters.wake([safe]);
    await this.ctx.announce([safe]).catch((error: unknown) => {
      this.logger.debug(`release notice of "${safe}" not sent: ${describe(error)}`);
    });
    return deleted;
  }
}

/** An error for a log line: its class and message (Redis errors carry no credentials; tokens are never logged). */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
