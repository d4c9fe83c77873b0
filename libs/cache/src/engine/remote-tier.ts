import { Logger } from '@nestjs/common';
import { isConnectionFailure, isErrorReply, type RedisConnection } from '@app/redis';
import { EncodedL1Entry, type L1Entry } from '../cache-entry';
import { CacheUnavailableError } from '../cache.errors';
import { CircuitBreaker, type BreakerState } from '../circuit-breaker';
import { parseEnvelope, type Envelope } from '../l2/envelope';
import { RedisL2, type L2Read, type L2Store, type L2Write, type WriteGuard } from '../l2/redis-l2';
import { SlotGroupedL2 } from '../l2/slot-grouped-l2';
import type { EngineContext } from './engine-context';
import type { PeerState } from './peer-state';

/** What an L2 read means to the engine: the entry in local-clock terms, and the guard of a write after it. */
export interface RemoteRead {
  entry?: L1Entry;
  fresh: boolean;
  guard: WriteGuard;
}

/**
 * What `TieredCache.inspect` found in Redis: null without a Redis tier (the
 * memory backend), `unavailable` when Redis is configured and could not be
 * asked (the breaker is open, or the call missed its deadline or lost its
 * connection): then nothing is known of the key, which may well exist.
 */
export type RemoteInspection =
  | { state: 'absent' }
  | { state: 'unavailable'; reason: string }
  | { state: 'tombstone' | 'foreign'; ttlMs: number; bytes?: number }
  | ({ state: 'entry'; ttlMs: number; bytes: number } & Envelope)
  | null;

/**
 * L2 behind the circuit breaker: every Redis call of the cache goes through
 * here, is timed and counted, and feeds the breaker; while it is open
 * nothing waits on Redis. Without Redis (memory backend, no URL) it is a null
 * object: reads answer undefined, and `configured` is false.
 *
 * A fresh L2 read is copied into L1 with the entry's remaining TTL (in local
 * clock terms), unless its key or tags were invalidated while it was in flight.
 */
export class RemoteTier {
  private readonly logger = new Logger('TieredCache');
  readonly breaker: CircuitBreaker;
  /** The Redis tier itself; undefined without Redis. */
  readonly l2?: L2Store;

  constructor(
    private readonly ctx: EngineContext,
    private readonly peers: PeerState,
    private readonly redis?: RedisConnection,
  ) {
    const { options, keys } = ctx;
    this.breaker = new CircuitBreaker({ failureThreshold: options.breakerThreshold });
    if (options.backend !== 'memory' && redis?.enabled) {
      this.l2 =
        keys.slotGroups > 0
          ? new SlotGroupedL2(redis, keys, options.maxTtlMs, options.tombstoneMs)
          : new RedisL2(redis, keys.tagPrefix, options.maxTtlMs, options.tombstoneMs);
    }
  }

  /** True when the cache has a Redis tier (whatever the breaker says). */
  get configured(): boolean {
    return this.l2 !== undefined;
  }

  /** True when entries go to Redis (configured, and the breaker is closed). */
  get available(): boolean {
    return this.l2 !== undefined && this.breaker.closed;
  }

  /**
   * True when what L2 holds may be served: available, and no peer is
   * degraded (its invalidations did not reach L2, so an entry there may be
   * one it invalidated; see `PeerState`). Otherwise a read still runs, for the
   * guard of the write that follows a miss, but counts as a miss and fills
   * nothing: loaded values, writes and invalidations still go to L2.
   */
  get readable(): boolean {
    return this.available && !this.peers.degraded;
  }

  get breakerState(): BreakerState | 'disabled' {
    return this.l2 ? this.breaker.state : 'disabled';
  }

  /**
   * Reads an entry; undefined when L2 is off or failing. `tags`, when known,
   * lets L2 check them without a script (see `RedisL2.get`).
   */
  async read(namespace: string, full: string, tags?: readonly string[]): Promise<RemoteRead | undefined> {
    if (!this.available) return undefined;
    const { tracker, stats } = this.ctx;
    const start = tracker.begin();
    try {
      const started = performance.now();
      const read = await this.guard(namespace, () => this.l2!.get(full, tags));
      stats.duration('get', 'l2', started);
      return read && (this.readable ? this.accept(namespace, full, read, start) : untrusted(read));
    } finally {
      tracker.end(start);
    }
  }

  /** `read` for several keys, in one round trip. */
  async readMany(namespace: string, fulls: readonly string[]): Promise<RemoteRead[] | undefined> {
    if (!this.available) return undefined;
    const { tracker, stats } = this.ctx;
    const start = tracker.begin();
    try {
      const started = performance.now();
      const reads = await this.guard(namespace, () => this.l2!.getMany(fulls));
      stats.duration('get', 'l2', started);
      return reads?.map((read, i) => (this.readable ? this.accept(namespace, fulls[i], read, start) : untrusted(read)));
    } finally {
      tracker.end(start);
    }
  }

  /** Writes one entry under its guard: true stored, false refused as late, undefined when L2 failed. */
  async write(namespace: string, write: L2Write): Promise<boolean | undefined> {
    const started = performance.now();
    const stored = await this.guard(namespace, () => this.l2!.set(write));
    this.ctx.stats.duration('set', 'l2', started);
    if (stored) this.ctx.stats.count(namespace, 'l2', 'sets');
    return stored;
  }

  /** Writes entries in one atomic round trip: how many were stored, undefined when L2 failed. */
  async writeMany(namespace: string, writes: readonly L2Write[]): Promise<number | undefined> {
    const started = performance.now();
    const stored = await this.guard(namespace, () => this.l2!.setMany(writes));
    this.ctx.stats.duration('set', 'l2', started);
    for (let i = 0; i < (stored ?? 0); i++) this.ctx.stats.count(namespace, 'l2', 'sets');
    return stored;
  }

  /** Tombstones for `keys`, markers for `tags`; throws when Redis fails (the breaker has been told). */
  async invalidate(keys: readonly string[], tags: readonly string[]): Promise<void> {
    try {
      await Promise.all([this.l2!.delete(keys), this.l2!.invalidateTags(tags)]);
      this.breaker.success();
    } catch (error) {
      this.noteFailure(error);
      throw error;
    }
  }

  /**
   * Runs a call of another client of this Redis connection (the
   * `CACHE_MANAGER` store) as L2 calls run: under the command deadline, and
   * not at all while the breaker is open (`CacheUnavailableError` at once).
   * Its failures and successes feed the breaker: one view of Redis's health.
   */
  async runOnRedis<R>(call: () => Promise<R>): Promise<R> {
    if (!this.available) throw new CacheUnavailableError('Redis is skipped while the cache breaker is open');
    try {
      const result = await this.redis!.run(() => call());
      this.breaker.success();
      return result;
    } catch (error) {
      this.noteFailure(error);
      this.logger.debug(`CACHE_MANAGER store call failed: ${String(error)}`);
      throw error;
    }
  }

  /** Redis's clock now, estimated from the last reply (0 when unknown: no guard). */
  serverNowEstimate(): number {
    const now = this.l2?.serverNow();
    // A little early on purpose: an invalidation at the edge is treated as newer.
    return now === undefined ? 0 : now - 50;
  }

  /**
   * Admin: the Redis key under `full` as it is (no tag check, nothing counted
   * or filled). A key of another Redis type is `foreign`; any other error
   * reply is thrown (Redis answered: not an outage).
   */
  async inspect(full: string): Promise<RemoteInspection> {
    if (!this.configured) return null;
    if (!this.available) return { state: 'unavailable', reason: 'cache breaker open' };
    let raw: string | null;
    let pttl: number;
    try {
      [raw, pttl] = await this.runOnRedis(() =>
        Promise.all([this.redis!.client.get(full), this.redis!.client.pTTL(full)]),
      );
    } catch (error) {
      if (error instanceof CacheUnavailableError) return { state: 'unavailable', reason: 'cache breaker open' };
      if (isConnectionFailure(error)) return { state: 'unavailable', reason: (error as Error).message };
      // Another Redis type (a list, a hash…) under the entries' prefix: nothing of ours, shown as such.
      if (isErrorReply(error) && error.message.startsWith('WRONGTYPE')) {
        return { state: 'foreign', ttlMs: await this.runOnRedis(() => this.redis!.client.pTTL(full)) };
      }
      throw error;
    }
    if (raw === null) return { state: 'absent' };
    if (raw.startsWith('x|')) return { state: 'tombstone', ttlMs: pttl };
    const envelope = parseEnvelope(raw);
    if (!envelope) return { state: 'foreign', ttlMs: pttl, bytes: raw.length };
    return { state: 'entry', ttlMs: pttl, bytes: raw.length, ...envelope };
  }

  /** Judges one L2 answer (counted as a hit or a miss); a fresh entry goes into L1 unless invalidated since `start`. */
  private accept(namespace: string, full: string, read: L2Read, start: number): RemoteRead {
    const { stats, tracker, l1 } = this.ctx;
    const entry = read.entry && this.toL1Entry(namespace, read.entry, read.now);
    if (!entry || read.entry!.expires <= read.now) {
      stats.count(namespace, 'l2', 'misses');
      return { entry, fresh: false, guard: { notBefore: read.notBefore, absent: read.absent } };
    }
    stats.count(namespace, 'l2', 'hits');
    if (!tracker.changed(start, full, entry.tags)) {
      const { payload } = read.entry!;
      const kept = new EncodedL1Entry(
        payload,
        this.ctx.options.serializer,
        entry.expiresAt,
        entry.graceUntil,
        entry.tags,
        entry.ttlMs,
      );
      l1.set(full, kept, Buffer.byteLength(payload));
    }
    return { entry, fresh: true, guard: { notBefore: read.notBefore } };
  }

  /** Decodes an L2 envelope into local-clock terms; a foreign schema or a corrupt payload is a miss. */
  private toL1Entry(namespace: string, env: Envelope, serverNow: number): L1Entry | undefined {
    const { options, stats } = this.ctx;
    if (env.schema !== options.schemaVersion) return undefined;
    let value: unknown;
    try {
      value = options.serializer.decode(env.payload);
    } catch (error) {
      stats.count(namespace, 'l2', 'errors');
      this.logger.warn(`undecodable L2 entry ignored: ${String(error)}`);
      return undefined;
    }
    const localNow = Date.now();
    return {
      value,
      expiresAt: localNow + (env.expires - serverNow),
      graceUntil: localNow + (env.graceUntil - serverNow),
      tags: env.tags,
      ttlMs: env.expires - env.created,
    };
  }

  /** Runs an L2 call; a failure is counted, feeds the breaker and yields undefined. */
  private async guard<R>(namespace: string, call: () => Promise<R>): Promise<R | undefined> {
    try {
      const result = await call();
      this.breaker.success();
      return result;
    } catch (error) {
      this.ctx.stats.count(namespace, 'l2', 'errors');
      this.noteFailure(error);
      this.logger.debug(`L2 call failed: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * A deadline miss or a lost connection counts against Redis's health; an
   * error reply does not (Redis answered, at once: a refused command, such as
   * a SCAN cursor out of range or a key of another type, says nothing about
   * whether the next call will wait), as on the connection itself.
   */
  private noteFailure(error: unknown): void {
    if (!isErrorReply(error)) this.breaker.failure();
  }
}

/** An L2 answer while a peer is degraded: a miss whatever it holds, with the guard of a write after it. */
function untrusted(read: L2Read): RemoteRead {
  return { fresh: false, guard: { notBefore: read.notBefore, absent: read.absent } };
}
