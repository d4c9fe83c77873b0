import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RedisConnection } from '@app/redis';
import type { InvalidationChannel } from './bus/invalidation-channel';
import type { CacheObserver, LockCounters } from './cache-stats';
import { CACHE_RESOLVED_OPTIONS, DEFAULT_NAMESPACE } from './cache.constants';
import type { ResolvedCacheOptions } from './cache.options';
import { CacheBackendError } from './cache.errors';
import type { DistributedLock } from './lock/distributed-lock';
import { NamespacedCache } from './namespaced-cache';
import { TieredCache, type EntryInspection } from './tiered-cache';

/** What `CacheService.status()` reports (admin API, health). */
export interface CacheStatus {
  backend: 'auto' | 'redis' | 'memory';
  /** True while entries go to Redis. */
  usingRedis: boolean;
  breaker: 'closed' | 'open' | 'disabled';
  l1: { entries: number; bytes: number };
  /** Bus messages since start: published, received from other instances, ignored (this instance's own). */
  bus: { published: number; received: number; ignored: number };
  /** The second invalidation channel (Postgres LISTEN/NOTIFY): 'none' when there is none. */
  channel: 'listening' | 'down' | 'none';
}

/**
 * The tiered cache for Nest: the default namespace's operations, plus
 * `namespace(name)` views, tag invalidation and stats.
 */
@Injectable()
export class CacheService extends NamespacedCache implements OnModuleInit, OnApplicationShutdown {
  private readonly namespaces = new Map<string, NamespacedCache>();

  constructor(@Inject(CACHE_RESOLVED_OPTIONS) resolved: ResolvedCacheOptions, @Optional() redis?: RedisConnection) {
    if (resolved.backend === 'redis' && !redis?.enabled) {
      throw new CacheBackendError('backend "redis" needs RedisModule with a url');
    }
    const engine = new TieredCache(resolved, redis);
    super(engine, DEFAULT_NAMESPACE);
  }

  /** The engine itself; its `parts` are for diagnostics and tests (see `TieredCacheParts`). */
  get engine(): TieredCache {
    return this.tiered;
  }

  /** The cache of one namespace (one instance per name). */
  namespace(name: string): NamespacedCache {
    let view = this.namespaces.get(name);
    if (!view) this.namespaces.set(name, (view = new NamespacedCache(this.tiered, name)));
    return view;
  }

  /** Invalidates every entry of a namespace, on every instance. */
  clearNamespace(name: string): Promise<void> {
    return this.tiered.clearNamespace(name);
  }

  /** Counters per namespace and layer since start. */
  stats() {
    return this.tiered.stats.snapshot();
  }

  /**
   * Named locks on the cache's Redis connection (breaker, key layout and bus
   * shared), or process-local with the memory backend. Also injectable as
   * `DistributedLock`.
   */
  get lock(): DistributedLock {
    return this.tiered.lock;
  }

  /** L1 entries and bytes per namespace on this instance (O(n) over L1: for the admin API). */
  l1ByNamespace(): Record<string, { entries: number; bytes: number }> {
    return this.tiered.l1ByNamespace();
  }

  /** Lock acquisitions since start, by outcome (loader leases included). */
  lockStats(): LockCounters {
    return this.tiered.stats.lockSnapshot();
  }

  /** Receives every count and duration (metrics exporters). */
  observe(observer: CacheObserver): void {
    this.tiered.stats.observer = observer;
  }

  status(): CacheStatus {
    return {
      backend: this.tiered.options.backend,
      usingRedis: this.tiered.usingRedis,
      breaker: this.tiered.breakerState,
      l1: this.tiered.l1Size,
      bus: this.tiered.busCounts,
      channel: this.tiered.channelState,
    };
  }

  /**
   * Adds the second invalidation channel, which carries invalidations while
   * the Redis bus cannot (see `InvalidationChannel`); `QueryCacheModule`
   * adds Postgres's. False (and not started) without Redis.
   */
  useInvalidationChannel(channel: InvalidationChannel): Promise<boolean> {
    return this.tiered.useChannel(channel);
  }

  /**
   * Runs a call on the shared Redis connection under the cache's breaker and
   * command deadline (see `TieredCache.runOnRedis`); the `CACHE_MANAGER`
   * store goes through it.
   */
  runOnRedis<R>(call: () => Promise<R>): Promise<R> {
    return this.tiered.runOnRedis(call);
  }

  /** The full Redis key of an entry (admin key browsing). */
  redisKey(namespace: string, key: string): string {
    return this.tiered.entryKey(namespace, key);
  }

  /** Admin: what this instance's L1 and Redis hold under a full entry key (see `TieredCache.inspect`). */
  inspect(redisKey: string): Promise<EntryInspection> {
    return this.tiered.inspect(redisKey);
  }

  /** `{prefix}:c:` — the start of every entry's Redis key (admin key browsing stays inside it). */
  get entryKeyPrefix(): string {
    return this.tiered.entryPrefix;
  }

  async onModuleInit(): Promise<void> {
    await this.tiered.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tiered.stop();
  }
}
