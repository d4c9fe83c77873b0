import type { RedisConnection } from '@app/redis';
import { CacheBus } from './bus/cache-bus';
import type { InvalidationChannel } from './bus/invalidation-channel';
import type { GetOrSetOptions, SetOptions } from './cache-entry';
import { CacheStats } from './cache-stats';
import type { ResolvedCacheOptions } from './cache.options';
import type { BreakerState } from './circuit-breaker';
import type { EngineContext } from './engine/engine-context';
import { EntryPreparer, UNGUARDED } from './engine/entry-preparer';
import { Invalidator } from './engine/invalidator';
import { LoaderRunner } from './engine/loader-runner';
import { LocalTier } from './engine/local-tier';
import { PeerState } from './engine/peer-state';
import { Recovery } from './engine/recovery';
import { RemoteTier, type RemoteInspection } from './engine/remote-tier';
import { InvalidationTracker } from './invalidation-tracker';
import { KeyLayout, namespaceTag, safeNamespace, safeSegment } from './keys';
import { L1Index } from './l1/l1-index';
import type { DistributedLock } from './lock/distributed-lock';
import { LocalLock } from './lock/local-lock';
import { RedisLock } from './lock/redis-lock';

/** What `TieredCache.inspect` found. */
export interface EntryInspection {
  l1: { expiresAt: number; graceUntil: number; tags: string[]; value: unknown } | null;
  l2: RemoteInspection;
}

/**
 * The engine's parts, for diagnostics and tests (a test may trip the breaker,
 * run a probe or call L2 directly). Not a stable API: the public methods of
 * `TieredCache` are.
 */
export interface TieredCacheParts {
  readonly remote: RemoteTier;
  readonly invalidator: Invalidator;
  readonly recovery: Recovery;
  readonly bus?: CacheBus;
}

/**
 * The tiered cache engine (framework-free; `CacheService` wraps it for Nest).
 * Reads try L1, then L2 (filling L1 with the L2 entry's remaining TTL), then
 * the loader (single flight per key, optionally one loader across instances).
 * L2 sits behind a circuit breaker: while it is open nothing waits on Redis.
 *
 * This class is the facade; each concern lives in one part (`engine/`):
 * `LocalTier` (L1 reads), `RemoteTier` (L2 behind the breaker),
 * `LoaderRunner` (`getOrSet`: single flight, lease, grace, refresh-ahead),
 * `Invalidator` (deletes, tags, the bus, the second channel, the replay
 * queue), `Recovery` (probe and reconnect rule) and `EntryPreparer` (TTL,
 * grace, tags and encoding of what is stored).
 */
export class TieredCache {
  readonly stats = new CacheStats();
  readonly keys: KeyLayout;
  /**
   * Named locks (`DistributedLock`): over Redis (same connection, key layout,
   * breaker and bus) when L2 is configured, process-local otherwise. The
   * loader's cross-instance single flight uses it.
   */
  readonly lock: DistributedLock;
  /** See `TieredCacheParts`. */
  readonly parts: TieredCacheParts;
  private readonly l1: L1Index;
  private readonly local: LocalTier;
  private readonly remote: RemoteTier;
  private readonly invalidator: Invalidator;
  private readonly recovery: Recovery;
  private readonly loaders: LoaderRunner;
  private readonly preparer: EntryPreparer;
  private readonly bus?: CacheBus;

  constructor(
    readonly options: ResolvedCacheOptions,
    redis?: RedisConnection,
  ) {
    this.keys = new KeyLayout(options.prefix, redis?.isCluster ? options.clusterSlotGroups : 0);
    this.l1 = new L1Index({ maxEntries: options.l1MaxEntries, maxBytes: options.l1MaxBytes });
    const ctx: EngineContext = {
      options,
      keys: this.keys,
      l1: this.l1,
      stats: this.stats,
      tracker: new InvalidationTracker(),
    };
    const peers = new PeerState();
    this.remote = new RemoteTier(ctx, peers, redis);
    let redisLock: RedisLock | undefined;
    if (this.remote.configured) {
      this.bus = new CacheBus(
        redis!,
        this.keys,
        options.busAckTimeoutMs,
        (m) => this.invalidator.onBusMessage(m),
        (direction) => this.stats.busMessage(direction),
      );
      redisLock = new RedisLock(
        {
          redis: redis!,
          keys: this.keys,
          breaker: this.remote.breaker,
          stats: this.stats,
          announce: (names) => this.invalidator.broadcast({ released: names }, false),
        },
        this.lockDefaults(),
      );
    }
    this.lock = redisLock ?? new LocalLock(this.stats, this.lockDefaults());
    this.invalidator = new Invalidator(
      ctx,
      this.remote,
      this.bus,
      {
        released: (names) => redisLock?.notifyReleased(names),
        startProbe: () => this.recovery.startProbe(),
      },
      peers,
    );
    this.recovery = new Recovery(ctx, redis, this.remote, this.bus, this.invalidator);
    this.preparer = new EntryPreparer(ctx);
    this.local = new LocalTier(ctx, this.invalidator);
    this.loaders = new LoaderRunner(ctx, this.local, this.remote, this.invalidator, this.preparer, redisLock);
    this.parts = { remote: this.remote, invalidator: this.invalidator, recovery: this.recovery, bus: this.bus };
  }

  private lockDefaults() {
    const o = this.options;
    return { ttlMs: o.lockLeaseMs, waitMs: o.lockWaitMs, pollMs: o.lockPollMs };
  }

  /** True when entries go to Redis (configured, and the breaker is closed). */
  get usingRedis(): boolean {
    return this.remote.available;
  }

  get breakerState(): BreakerState | 'disabled' {
    return this.remote.breakerState;
  }

  /** Bus messages published, received and ignored (own echoes) since start (zero without Redis). */
  get busCounts(): { published: number; received: number; ignored: number } {
    return { ...(this.bus?.counts ?? { published: 0, received: 0, ignored: 0 }) };
  }

  get l1Size(): { entries: number; bytes: number } {
    return { entries: this.l1.size, bytes: this.l1.bytes };
  }

  /** Subscribes to the bus and follows the connection's state. */
  async start(): Promise<void> {
    return this.recovery.start();
  }

  async stop(): Promise<void> {
    await this.recovery.stop();
    await this.invalidator.stopChannel();
  }

  /**
   * Adds a second invalidation channel (see `InvalidationChannel`): every
   * invalidation goes there too, and while this instance cannot hear the
   * Redis bus, an L1 entry is served only after the channel's barrier. Only
   * with Redis: without it there is no bus to back up (the memory backend is
   * for one instance). False when not used.
   */
  async useChannel(channel: InvalidationChannel): Promise<boolean> {
    return this.invalidator.useChannel(channel);
  }

  /** `{prefix}:c:` — the start of every entry's Redis key. */
  get entryPrefix(): string {
    return this.keys.entryPrefix;
  }

  /** L1 entries and bytes per namespace (O(n) over L1: admin figures). */
  l1ByNamespace(): Record<string, { entries: number; bytes: number }> {
    const start = this.keys.entryPrefix.length;
    const result: Record<string, { entries: number; bytes: number }> = {};
    for (const [key, size] of this.l1.sizes()) {
      const namespace = key.slice(start, key.indexOf(':', start));
      const figures = (result[namespace] ??= { entries: 0, bytes: 0 });
      figures.entries++;
      figures.bytes += size;
    }
    return result;
  }

  /** 'listening', 'down', or 'none' (no second channel). */
  get channelState(): 'listening' | 'down' | 'none' {
    return this.invalidator.channelState;
  }

  /** The full Redis key of an entry (namespace and key made safe). */
  entryKey(namespace: string, key: string): string {
    return this.keys.entry(safeNamespace(namespace), safeSegment(key));
  }

  /**
   * Admin: what this instance's L1 and Redis hold under a full entry key,
   * read as they are (no tag check, nothing counted or filled). `l2` is null
   * without Redis or with the breaker open.
   */
  async inspect(full: string): Promise<EntryInspection> {
    const local = this.l1.peek(full);
    const l1 = local
      ? { expiresAt: local.expiresAt, graceUntil: local.graceUntil, tags: [...local.tags], value: local.value }
      : null;
    return { l1, l2: await this.remote.inspect(full) };
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const full = this.entryKey(namespace, key);
    const local = this.invalidator.needsBarrier()
      ? await this.local.heard(namespace, full)
      : this.local.fresh(namespace, full);
    if (local) return local.value as T;
    const remote = await this.remote.read(namespace, full);
    return remote?.fresh ? (remote.entry?.value as T) : undefined;
  }

  /** True when the key holds a fresh entry, whatever its value (`undefined` included). */
  async has(namespace: string, key: string): Promise<boolean> {
    const full = this.entryKey(namespace, key);
    const local = this.invalidator.needsBarrier()
      ? await this.local.heard(namespace, full)
      : this.local.fresh(namespace, full);
    if (local) return true;
    return (await this.remote.read(namespace, full))?.fresh ?? false;
  }

  /** Values in key order (undefined for misses); the keys missing from L1 are read from L2 in one round trip. */
  async mget<T>(namespace: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    const values = new Array<T | undefined>(keys.length);
    const missing: number[] = [];
    const fulls = keys.map((k) => this.entryKey(namespace, k));
    const locals = await this.local.readMany(namespace, fulls);
    locals.forEach((local, i) => {
      if (local) values[i] = local.value as T;
      else missing.push(i);
    });
    if (missing.length === 0) return values;
    const remote = await this.remote.readMany(
      namespace,
      missing.map((i) => fulls[i]),
    );
    remote?.forEach((read, j) => {
      if (read.fresh) values[missing[j]] = read.entry?.value as T;
    });
    return values;
  }

  /** Stores a value, replacing any other instance's L1 copy (see `mset` for a failing Redis). */
  async set<T>(namespace: string, key: string, value: T, options: SetOptions<T> = {}): Promise<void> {
    await this.mset(namespace, [{ key, value, options }]);
  }

  /**
   * Stores entries, replacing other instances' L1 copies; L2 gets them all in
   * one atomic round trip. A value the cache cannot hold throws before
   * anything is written. When the L2 write fails (error or deadline), the
   * values are cached nowhere rather than on this instance only: this L1
   * drops them (and its older copies), and deletes of the keys are replayed
   * as soon as Redis answers, since a timed-out write may still land.
   */
  async mset<T>(
    namespace: string,
    entries: ReadonlyArray<{ key: string; value: T; options?: SetOptions<T> }>,
  ): Promise<void> {
    const fulls = entries.map((e) => this.entryKey(namespace, e.key));
    const prepared = entries.map((e, i) =>
      this.preparer.prepare(namespace, fulls[i], e.value, e.options ?? {}, UNGUARDED),
    );
    this.invalidator.noteWritten(fulls);
    if (this.remote.available) {
      const stored = await this.remote.writeMany(
        namespace,
        prepared.map((p) => p.write),
      );
      if (stored === undefined) return this.invalidator.abandonWrite(fulls);
    }
    for (const entry of prepared) this.preparer.keepInL1(namespace, entry);
    await this.invalidator.announceWrite(fulls);
  }

  /** Deletes keys everywhere: L1 here and on every instance, L2 (a tombstone). */
  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    return this.invalidator.delete(
      namespace,
      keys.map((k) => this.entryKey(namespace, k)),
    );
  }

  /** Every entry carrying one of `tags` becomes a miss on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    return this.invalidator.invalidateTags(tags.map((t) => safeSegment(t)));
  }

  /** Every entry of the namespace becomes a miss on every instance (O(1): the namespace is an implicit tag). */
  async clearNamespace(namespace: string): Promise<void> {
    return this.invalidateTags([namespaceTag(safeNamespace(namespace))]);
  }

  /**
   * The cached value, or the loader's (stored with `options`). Concurrent
   * misses share one loader call; with `lockAcrossInstances`, one instance
   * loads while the others wait for its value. When the loader throws and an
   * expired entry is inside its grace window, that entry is returned (stale).
   */
  getOrSet<T>(
    namespace: string,
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T> = {},
  ): Promise<T> {
    // Not async itself: an L1 hit is one async call (the runner's), not two. A bad key still rejects.
    let full: string;
    try {
      full = this.entryKey(namespace, key);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.loaders.getOrSet(namespace, full, loader, options);
  }

  /**
   * Runs a call of another client of this Redis connection (the
   * `CACHE_MANAGER` store) as L2 calls run (see `RemoteTier.runOnRedis`).
   */
  runOnRedis<R>(call: () => Promise<R>): Promise<R> {
    return this.remote.runOnRedis(call);
  }
}
