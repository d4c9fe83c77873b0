import { Logger } from '@nestjs/common';
import { BackgroundScope, type RedisConnection } from '@app/redis';
import { CacheBus, type BusMessage } from './bus/cache-bus';
import { CacheDependencies } from './dependencies';
import type { ChannelInvalidation, InvalidationChannel } from './bus/invalidation-channel';
import type { GetOrSetOptions, L1Entry, SetOptions } from './cache-entry';
import { CacheStats, type CacheLayer } from './cache-stats';
import type { ResolvedCacheOptions } from './cache.options';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';
import { CacheArgumentError, CacheSerializationError, CacheUnavailableError } from './cache.errors';
import { InvalidationQueue } from './invalidation-queue';
import { InvalidationTracker } from './invalidation-tracker';
import { KeyLayout, namespaceTag, safeNamespace, safeSegment } from './keys';
import { L1Index } from './l1/l1-index';
import type { DistributedLock, Lease } from './lock/distributed-lock';
import { LocalLock } from './lock/local-lock';
import { RedisLock } from './lock/redis-lock';
import { parseEnvelope, type Envelope } from './l2/envelope';
import { RedisL2, type L2Read, type L2Write, type WriteGuard } from './l2/redis-l2';
import { encodeWithLimit } from './serialization/serializer';
import { SingleFlight } from './single-flight';
import { resolveGrace, resolveTtl } from './ttl';

/** The guard of a write that did not follow a read (`set`): none. */
const UNGUARDED: WriteGuard = { notBefore: 0 };

/** Keys per Redis call and bus message when replaying queued invalidations. */
const REPLAY_BATCH = 500;

/** What an L2 read means to the engine: the entry in local-clock terms, and the guard of a write after it. */
interface RemoteRead {
  entry?: L1Entry;
  fresh: boolean;
  guard: WriteGuard;
}

/** A value ready to store: encoded, with its resolved TTL, grace and tags. */
interface PreparedWrite {
  value: unknown;
  /** Encoded size (the L1 byte bound counts it). */
  bytes: number;
  write: L2Write;
}

/** What `TieredCache.inspect` found. */
export interface EntryInspection {
  l1: { expiresAt: number; graceUntil: number; tags: string[]; value: unknown } | null;
  l2:
    | { state: 'absent' }
    | { state: 'tombstone' | 'foreign'; ttlMs: number; bytes?: number }
    | ({ state: 'entry'; ttlMs: number; bytes: number } & Envelope)
    | null;
}

/**
 * The tiered cache engine (framework-free; `CacheService` wraps it for Nest).
 * Reads try L1, then L2 (filling L1 with the L2 entry's remaining TTL), then
 * the loader (single flight per key, optionally one loader across instances).
 * L2 sits behind a circuit breaker: while it is open nothing waits on Redis.
 */
export class TieredCache {
  private readonly logger = new Logger('TieredCache');
  readonly stats = new CacheStats();
  readonly keys: KeyLayout;
  private readonly l1: L1Index;
  private readonly l2?: RedisL2;
  private readonly bus?: CacheBus;
  private readonly breaker: CircuitBreaker;
  private readonly flights = new SingleFlight();
  /**
   * Named locks (`DistributedLock`): over Redis (same connection, key layout,
   * breaker and bus) when L2 is configured, process-local otherwise. The
   * loader's cross-instance single flight uses it.
   */
  readonly lock: DistributedLock;
  private readonly redisLock?: RedisLock;
  private readonly pending: InvalidationQueue;
  private readonly tracker = new InvalidationTracker();
  private probe?: NodeJS.Timeout;
  /** Breaker logs and the probe run in the cache's own context, not in the request that tripped it. */
  private readonly background = new BackgroundScope('TieredCache.breaker');
  private recovering = false;
  private unsubscribe?: () => void;
  /** The second invalidation channel (Postgres): every invalidation, and the barrier while the bus is unheard. */
  private channel?: InvalidationChannel;

  constructor(
    readonly options: ResolvedCacheOptions,
    private readonly redis?: RedisConnection,
  ) {
    this.keys = new KeyLayout(options.prefix);
    this.pending = new InvalidationQueue(options.prefix);
    this.l1 = new L1Index({ maxEntries: options.l1MaxEntries, maxBytes: options.l1MaxBytes });
    this.breaker = new CircuitBreaker({ failureThreshold: options.breakerThreshold });
    if (options.backend !== 'memory' && redis?.enabled) {
      this.l2 = new RedisL2(redis, this.keys, options.maxTtlMs, options.tombstoneMs);
      this.bus = new CacheBus(
        redis,
        this.keys,
        options.busAckTimeoutMs,
        (m) => this.onBusMessage(m),
        (direction) => this.stats.busMessage(direction),
      );
      this.redisLock = new RedisLock(
        {
          redis,
          keys: this.keys,
          breaker: this.breaker,
          stats: this.stats,
          announce: (names) => this.broadcast({ released: names }, false),
        },
        this.lockDefaults(),
      );
      this.breaker.onChange((state) => this.onBreakerChange(state));
    }
    this.lock = this.redisLock ?? new LocalLock(this.stats, this.lockDefaults());
  }

  private lockDefaults() {
    const o = this.options;
    return { ttlMs: o.lockLeaseMs, waitMs: o.lockWaitMs, pollMs: o.lockPollMs };
  }

  /** True when entries go to Redis (configured, and the breaker is closed). */
  get usingRedis(): boolean {
    return !!this.l2 && this.breaker.closed;
  }

  get breakerState(): BreakerState | 'disabled' {
    return this.l2 ? this.breaker.state : 'disabled';
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
    if (!this.redis || !this.l2) return;
    this.unsubscribe = this.redis.onStateChange((event) =>
      event === 'down' ? this.breaker.trip() : this.startProbe(),
    );
    // Until the bus is heard, L1 cannot be kept coherent: start "open" and let
    // the probe close the breaker (it waits for the subscriber too).
    if (!(await this.redis.whenFirstAttemptDone()) || !this.redis.subscriberReady) {
      this.breaker.trip();
      return;
    }
    await this.bus?.start().catch((error: unknown) => {
      this.logger.warn(`bus subscription failed: ${String(error)}`);
      this.breaker.trip();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.probe);
    this.probe = undefined;
    await this.bus?.stop();
    await this.channel?.stop();
  }

  /**
   * Adds a second invalidation channel (see `InvalidationChannel`): every
   * invalidation goes there too, and while this instance cannot hear the
   * Redis bus, an L1 entry is served only after the channel's barrier. Only
   * with Redis: without it there is no bus to back up (the memory backend is
   * for one instance). False when not used.
   */
  async useChannel(channel: InvalidationChannel): Promise<boolean> {
    if (!this.l2 || this.channel) return false;
    this.channel = channel;
    await channel.start({
      name: `${this.options.prefix}:bus`,
      message: (invalidation) => this.onChannelMessage(invalidation),
      resumed: () => {
        // Messages may have been missed in the gap; the Redis bus covered them only if it was heard.
        if (this.breaker.closed) return;
        this.logger.warn('invalidation channel back after a gap: L1 dropped');
        this.dropL1();
      },
    });
    return true;
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
    if (!this.channel) return 'none';
    return this.channel.listening ? 'listening' : 'down';
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
    if (!this.usingRedis) return { l1, l2: null };
    const [raw, pttl] = await this.runOnRedis(() =>
      Promise.all([this.redis!.client.get(full), this.redis!.client.pTTL(full)]),
    );
    if (raw === null) return { l1, l2: { state: 'absent' } };
    if (raw.startsWith('x|')) return { l1, l2: { state: 'tombstone', ttlMs: pttl } };
    const envelope = parseEnvelope(raw);
    if (!envelope) return { l1, l2: { state: 'foreign', ttlMs: pttl, bytes: raw.length } };
    const { payload, ...header } = envelope;
    return { l1, l2: { state: 'entry', ttlMs: pttl, bytes: raw.length, ...header, payload } };
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const full = this.entryKey(namespace, key);
    const local = this.needsBarrier() ? await this.heardL1(namespace, full) : this.freshL1(namespace, full);
    if (local) return local.value as T;
    const remote = await this.readL2(namespace, full);
    return remote?.fresh ? (remote.entry?.value as T) : undefined;
  }

  /** True when the key holds a fresh entry, whatever its value (`undefined` included). */
  async has(namespace: string, key: string): Promise<boolean> {
    const full = this.entryKey(namespace, key);
    const local = this.needsBarrier() ? await this.heardL1(namespace, full) : this.freshL1(namespace, full);
    if (local) return true;
    return (await this.readL2(namespace, full))?.fresh ?? false;
  }

  /** Values in key order (undefined for misses); the keys missing from L1 are read from L2 in one round trip. */
  async mget<T>(namespace: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    const values = new Array<T | undefined>(keys.length);
    const missing: number[] = [];
    const fulls = keys.map((k) => this.entryKey(namespace, k));
    // The barrier only matters for keys L1 holds: none held, no round trip.
    const heard = !this.needsBarrier() || !fulls.some((f) => this.l1.peek(f)) || (await this.passBarrier());
    for (let i = 0; i < fulls.length; i++) {
      const local = heard ? this.freshL1(namespace, fulls[i]) : this.untrustedL1(namespace);
      if (local) values[i] = local.value as T;
      else missing.push(i);
    }
    if (missing.length === 0) return values;
    const remote = await this.readManyL2(
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
    const prepared = entries.map((e, i) => this.prepare(namespace, fulls[i], e.value, e.options ?? {}, UNGUARDED));
    this.tracker.note(fulls, []);
    if (this.usingRedis) {
      const started = performance.now();
      const stored = await this.guard(namespace, () => this.l2!.setMany(prepared.map((p) => p.write)));
      this.stats.duration('set', 'l2', started);
      if (stored === undefined) return this.abandonWrite(fulls);
      for (let i = 0; i < stored; i++) this.stats.count(namespace, 'l2', 'sets');
    }
    for (const entry of prepared) this.keepInL1(namespace, entry);
    await this.announceWrite(fulls);
  }

  /**
   * A failed explicit write: see `mset`. The probe replays the deletes, even
   * with the breaker closed; the other instances drop their older copies now,
   * through the second channel.
   */
  private async abandonWrite(fulls: string[]): Promise<void> {
    for (const full of fulls) this.l1.delete(full);
    this.pending.add(fulls, []);
    this.startProbe();
    await this.sendOnChannel({ keys: fulls, tags: [] });
  }

  /**
   * Other instances must drop their L1 copies of written keys. While Redis is
   * out, the write reached neither L2 nor them: queue a delete of those keys
   * for replay, so the older L2 value cannot come back after recovery.
   */
  private async announceWrite(fulls: string[]): Promise<void> {
    if (!this.l2) return;
    if (!this.usingRedis) this.pending.add(fulls, []);
    await Promise.all([this.broadcast({ keys: fulls }), this.sendOnChannel({ keys: fulls, tags: [] })]);
  }

  /** Deletes keys everywhere: L1 here and on every instance, L2 (a tombstone). */
  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    const fulls = keys.map((k) => this.entryKey(namespace, k));
    const started = performance.now();
    for (const full of fulls) {
      if (this.l1.delete(full)) this.stats.count(namespace, 'l1', 'deletes');
    }
    this.stats.duration('delete', 'l1', started);
    this.tracker.note(fulls, []);
    await this.invalidateRemote('delete', { keys: fulls, tags: [] }, namespace);
  }

  /** Every entry carrying one of `tags` becomes a miss on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const safe = tags.map((t) => safeSegment(t));
    const started = performance.now();
    this.l1.deleteTagged(safe);
    this.stats.duration('invalidate', 'l1', started);
    this.tracker.note([], safe);
    await this.invalidateRemote('invalidate', { keys: [], tags: safe }, undefined);
  }

  /** Every entry of the namespace becomes a miss on every instance (O(1): the namespace is an implicit tag). */
  clearNamespace(namespace: string): Promise<void> {
    return this.invalidateTags([namespaceTag(safeNamespace(namespace))]);
  }

  /**
   * The cached value, or the loader's (stored with `options`). Concurrent
   * misses share one loader call; with `lockAcrossInstances`, one instance
   * loads while the others wait for its value. When the loader throws and an
   * expired entry is inside its grace window, that entry is returned (stale).
   */
  async getOrSet<T>(
    namespace: string,
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T> = {},
  ): Promise<T> {
    const full = this.entryKey(namespace, key);
    // Inside `CacheDependencies.track` (an HTTP response being built), this read is a dependency.
    if (typeof options.tags !== 'function') CacheDependencies.record(options.tags, this.declaredTtl(options.ttl));
    if (this.needsBarrier()) return this.getOrSetUnheard(namespace, full, loader, options);
    const local = this.freshL1(namespace, full);
    if (local) {
      if (options.refreshAhead) this.maybeRefresh(namespace, full, local, loader, options);
      return local.value as T;
    }
    return this.flights.run(full, () => this.load(namespace, full, loader, options));
  }

  /** `getOrSet` while the Redis bus is unheard: L1 after the channel's barrier (see `heardL1`). */
  private async getOrSetUnheard<T>(
    namespace: string,
    full: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
  ): Promise<T> {
    const local = await this.heardL1(namespace, full);
    if (local) return local.value as T;
    return this.flights.run(full, () => this.load(namespace, full, loader, options));
  }

  /** Starts a background reload when the entry is close to expiry; its failure is logged and counted. */
  private maybeRefresh<T>(
    namespace: string,
    full: string,
    entry: L1Entry,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
  ): void {
    const left = entry.expiresAt - Date.now();
    if (left > entry.ttlMs * (options.refreshAhead ?? 0) || this.flights.has(full)) return;
    this.flights
      .run(full, () =>
        this.runLoader(namespace, full, loader, options, undefined, { notBefore: this.serverNowEstimate() }),
      )
      .catch((error: unknown) => {
        this.stats.count(namespace, 'l1', 'errors');
        this.logger.warn(`refresh-ahead of ${full} failed: ${String(error)}`);
      });
  }

  private async load<T>(
    namespace: string,
    full: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
  ): Promise<T> {
    // The tags this call's entries carry: L2 checks them in one MGET with the
    // entry. Tags that depend on the value are not known yet: the script reads the entry's own.
    const tags = typeof options.tags === 'function' ? undefined : this.tagsOf(namespace, options.tags);
    const remote = await this.readL2(namespace, full, tags);
    if (remote?.fresh) return remote.entry?.value as T;
    // When Redis answered, its view wins: an entry it no longer has (deleted,
    // tag-invalidated) must not come back from L1 as a grace value.
    const stale = remote ? remote.entry : this.graceL1(full);
    const staleLayer: CacheLayer = remote ? 'l2' : 'l1';
    // No answer from L2 (breaker open, or this very read failed or missed its
    // deadline): the call keeps to L1. A lease or a write would wait another
    // deadline on a Redis that just missed one.
    const guard = remote?.guard;
    const locked =
      options.lockAcrossInstances && remote
        ? await this.loaderLease(namespace, full, tags, options.lockWaitMs ?? this.options.lockWaitMs)
        : undefined;
    if (locked?.filled) return locked.filled.value as T;
    const lease = locked?.lease;
    try {
      return await this.runLoader(
        namespace,
        full,
        loader,
        options,
        stale && { entry: stale, layer: staleLayer },
        guard,
      );
    } finally {
      // Announces the release on the bus: the waiters read the value just stored.
      await lease?.release();
    }
  }

  /**
   * `lockAcrossInstances`: the loader lease of `full`, or the entry another
   * instance's loader stored meanwhile (woken by its release notice; a slow
   * poll covers a lost one). Neither (load here, unlocked) when Redis fails or
   * the breaker opens, when the wait deadline passes, or without Redis.
   */
  private async loaderLease(
    namespace: string,
    full: string,
    tags: readonly string[] | undefined,
    waitMs: number,
  ): Promise<{ lease?: Lease; filled?: L1Entry } | undefined> {
    if (!this.redisLock) return undefined;
    const name = this.keys.loaderLockName(full);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const attempt = await this.redisLock.attempt(name, { ttlMs: this.options.lockLeaseMs });
      if (attempt.lease) return { lease: attempt.lease };
      // Nobody can coordinate: load here (single flight still holds in this process).
      if (attempt.reason === 'unavailable') return undefined;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.stats.lockEvent('busy');
        return undefined;
      }
      await this.redisLock.waitForRelease(name, Math.min(left, this.options.lockPollMs));
      const read = await this.readL2(namespace, full, tags);
      // Redis stopped answering (breaker open): waiting longer cannot help.
      if (!read) return undefined;
      if (read.fresh && read.entry) return { filled: read.entry };
    }
  }

  private async runLoader<T>(
    namespace: string,
    full: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
    stale: { entry: L1Entry; layer: CacheLayer } | undefined,
    guard: WriteGuard | undefined,
  ): Promise<T> {
    const start = this.tracker.begin();
    try {
      const started = performance.now();
      let value: T;
      try {
        value = await loader();
      } catch (error) {
        if (stale && stale.entry.graceUntil > Date.now()) {
          this.stats.count(namespace, stale.layer, 'staleHits');
          return stale.entry.value as T;
        }
        throw error;
      } finally {
        this.stats.duration('load', 'loader', started);
      }
      if (options.cacheable && !options.cacheable(value)) return value;
      const declared = resolveTags(options.tags, value);
      if (typeof options.tags === 'function') CacheDependencies.record(declared, this.declaredTtl(options.ttl));
      const tags = this.entryTags(namespace, declared);
      if (!this.tracker.changed(start, full, tags))
        await this.storeLoaded(namespace, full, value, { ...options, tags: declared }, guard);
      return value;
    } finally {
      this.tracker.end(start);
    }
  }

  /**
   * `store` for a loaded value: the caller asked for the value, not for it to
   * be cached, so a value the cache cannot hold (unserializable, over
   * `maxEntryBytes`) is counted, logged and returned uncached.
   */
  private async storeLoaded<T>(
    namespace: string,
    full: string,
    value: T,
    options: SetOptions<T>,
    guard: WriteGuard | undefined,
  ): Promise<void> {
    try {
      await this.store(namespace, full, value, options, guard);
    } catch (error) {
      if (!(error instanceof CacheSerializationError)) throw error;
      this.stats.count(namespace, 'l1', 'errors');
      this.logger.warn(`loaded value of ${full} not cached (${error.code}): ${error.message}`);
    }
  }

  /**
   * Writes L1 and (breaker permitting) L2; `guard` undefined writes L1 only.
   * Serialization errors reach the caller; nothing is stored then.
   */
  private async store<T>(
    namespace: string,
    full: string,
    value: T,
    options: SetOptions<T>,
    guard: WriteGuard | undefined,
  ): Promise<void> {
    const entry = this.prepare(namespace, full, value, options, guard ?? UNGUARDED);
    if (guard && this.usingRedis) {
      const started = performance.now();
      const stored = await this.guard(namespace, () => this.l2!.set(entry.write));
      this.stats.duration('set', 'l2', started);
      // Refused: the value was loaded before an invalidation or a newer write. L1 must not get it either.
      if (stored === false) return;
      if (stored) this.stats.count(namespace, 'l2', 'sets');
    }
    this.keepInL1(namespace, entry);
  }

  /** Resolves TTL, grace and tags and encodes the value (throwing when the cache cannot hold it). */
  private prepare<T>(
    namespace: string,
    full: string,
    value: T,
    options: SetOptions<T>,
    guard: WriteGuard,
  ): PreparedWrite {
    const o = this.options;
    const jitter = options.jitter ?? o.ttlJitter;
    const ttl = resolveTtl(options.ttl, value, { ttlMs: o.defaultTtlMs, jitter, maxMs: o.maxTtlMs });
    const grace = resolveGrace(options.grace, o.defaultGraceMs, ttl, o.maxTtlMs);
    const tags = this.entryTags(namespace, resolveTags(options.tags, value));
    const { text, bytes } = encodeWithLimit(o.serializer, value, o.maxEntryBytes);
    const write = { key: full, ttlMs: ttl, graceMs: grace, schema: o.schemaVersion, tags, payload: text, ...guard };
    return { value, bytes, write };
  }

  private keepInL1(namespace: string, { value, bytes, write }: PreparedWrite): void {
    const now = Date.now();
    const { ttlMs, graceMs, tags } = write;
    this.l1.set(write.key, { value, expiresAt: now + ttlMs, graceUntil: now + ttlMs + graceMs, tags, ttlMs }, bytes);
    this.stats.count(namespace, 'l1', 'sets');
  }

  /** Redis's clock now, estimated by L2 from its last reply (0 when unknown: no guard). */
  private serverNowEstimate(): number {
    const now = this.l2?.serverNow();
    // A little early on purpose: an invalidation at the edge is treated as newer.
    return now === undefined ? 0 : now - 50;
  }

  /** The TTL a read declares (the default when it names none); undefined when it is a function of the value. */
  private declaredTtl(ttl: SetOptions<never>['ttl']): number | undefined {
    if (ttl === undefined) return this.options.defaultTtlMs;
    return typeof ttl === 'number' ? ttl : undefined;
  }

  private entryTags(namespace: string, tags: readonly string[] = []): string[] {
    for (const tag of tags) if (tag === '') throw new CacheArgumentError('tags must be non-empty strings');
    return this.tagsOf(namespace, tags);
  }

  /** An entry's tags as stored: the namespace's implicit tag, then the caller's (made safe, not validated). */
  private tagsOf(namespace: string, tags: readonly string[] = []): string[] {
    return [namespaceTag(safeNamespace(namespace)), ...tags.map((t) => safeSegment(t))];
  }

  private freshL1(namespace: string, full: string): L1Entry | undefined {
    // Sampled: two clock reads and a histogram update on every hit would cost more than the hit.
    const started = this.stats.sampleL1() ? performance.now() : -1;
    const entry = this.l1.get(full);
    if (started >= 0) this.stats.duration('get', 'l1', started);
    if (entry && entry.expiresAt > Date.now()) {
      this.stats.count(namespace, 'l1', 'hits');
      return entry;
    }
    this.stats.count(namespace, 'l1', 'misses');
    return undefined;
  }

  /**
   * True while this instance cannot hear the Redis bus (breaker open) and a
   * second channel exists: an invalidation made elsewhere may be on its way
   * through the channel, so L1 waits for the channel's barrier.
   */
  private needsBarrier(): boolean {
    return this.channel !== undefined && !this.breaker.closed;
  }

  /** Waits for the channel's barrier; false (L1 untrusted) when it cannot be passed. */
  private async passBarrier(): Promise<boolean> {
    try {
      await this.channel!.barrier();
      return true;
    } catch (error) {
      this.logger.debug(`invalidation channel barrier failed, L1 not trusted: ${String(error)}`);
      return false;
    }
  }

  /**
   * `freshL1` while the bus is unheard: the entry is served only once the
   * barrier has passed, and only if no invalidation delivered meanwhile
   * removed it. With the barrier failing (Postgres unreachable too), L1
   * cannot be proven current and the read is a miss.
   */
  private async heardL1(namespace: string, full: string): Promise<L1Entry | undefined> {
    if (!this.l1.peek(full)) return this.freshL1(namespace, full);
    if (!(await this.passBarrier())) return this.untrustedL1(namespace);
    return this.freshL1(namespace, full);
  }

  /** An L1 read refused because L1 cannot be proven current: a miss. */
  private untrustedL1(namespace: string): undefined {
    this.stats.count(namespace, 'l1', 'misses');
    return undefined;
  }

  private graceL1(full: string): L1Entry | undefined {
    const entry = this.l1.peek(full);
    return entry && entry.graceUntil > Date.now() ? entry : undefined;
  }

  /**
   * L2 read; a fresh entry is copied into L1 with its remaining TTL, unless
   * the key or its tags were invalidated while the read was in flight.
   * Undefined when L2 is off or failing. `tags`, when known, lets L2 check
   * them without a script (see `RedisL2.get`).
   */
  private async readL2(namespace: string, full: string, tags?: readonly string[]): Promise<RemoteRead | undefined> {
    if (!this.usingRedis) return undefined;
    const start = this.tracker.begin();
    try {
      const started = performance.now();
      const read = await this.guard(namespace, () => this.l2!.get(full, tags));
      this.stats.duration('get', 'l2', started);
      return read && this.accept(namespace, full, read, start);
    } finally {
      this.tracker.end(start);
    }
  }

  /** `readL2` for several keys, in one round trip (`mget`). */
  private async readManyL2(namespace: string, fulls: readonly string[]): Promise<RemoteRead[] | undefined> {
    if (!this.usingRedis) return undefined;
    const start = this.tracker.begin();
    try {
      const started = performance.now();
      const reads = await this.guard(namespace, () => this.l2!.getMany(fulls));
      this.stats.duration('get', 'l2', started);
      return reads?.map((read, i) => this.accept(namespace, fulls[i], read, start));
    } finally {
      this.tracker.end(start);
    }
  }

  /** Judges one L2 answer (counted as a hit or a miss); a fresh entry goes into L1 unless invalidated since `start`. */
  private accept(namespace: string, full: string, read: L2Read, start: number): RemoteRead {
    const entry = read.entry && this.toL1Entry(namespace, read.entry, read.now);
    if (!entry || read.entry!.expires <= read.now) {
      this.stats.count(namespace, 'l2', 'misses');
      return { entry, fresh: false, guard: { notBefore: read.notBefore, absent: read.absent } };
    }
    this.stats.count(namespace, 'l2', 'hits');
    if (!this.tracker.changed(start, full, entry.tags))
      this.l1.set(full, entry, Buffer.byteLength(read.entry!.payload));
    return { entry, fresh: true, guard: { notBefore: read.notBefore } };
  }

  /** Decodes an L2 envelope into local-clock terms; a foreign schema or a corrupt payload is a miss. */
  private toL1Entry(namespace: string, env: Envelope, serverNow: number): L1Entry | undefined {
    if (env.schema !== this.options.schemaVersion) return undefined;
    let value: unknown;
    try {
      value = this.options.serializer.decode(env.payload);
    } catch (error) {
      this.stats.count(namespace, 'l2', 'errors');
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
      this.stats.count(namespace, 'l2', 'errors');
      this.breaker.failure();
      this.logger.debug(`L2 call failed: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * Runs a call of another client of this Redis connection (the
   * `CACHE_MANAGER` store) as L2 calls run: under the command deadline, and
   * not at all while the breaker is open (`CacheUnavailableError` at once).
   * Its failures and successes feed the breaker: one view of Redis's health.
   */
  async runOnRedis<R>(call: () => Promise<R>): Promise<R> {
    if (!this.usingRedis) throw new CacheUnavailableError('Redis is skipped while the cache breaker is open');
    try {
      const result = await this.redis!.run(() => call());
      this.breaker.success();
      return result;
    } catch (error) {
      this.breaker.failure();
      this.logger.debug(`CACHE_MANAGER store call failed: ${String(error)}`);
      throw error;
    }
  }

  /** L2 tombstones/markers and the bus; queued for replay when Redis is unreachable. */
  private async invalidateRemote(
    operation: 'delete' | 'invalidate',
    invalidation: { keys: string[]; tags: string[] },
    namespace: string | undefined,
  ): Promise<void> {
    if (!this.l2) return;
    if (!this.usingRedis) {
      this.pending.add(invalidation.keys, invalidation.tags);
      return this.sendOnChannel(invalidation);
    }
    try {
      const started = performance.now();
      await Promise.all([this.l2.delete(invalidation.keys), this.l2.invalidateTags(invalidation.tags)]);
      this.stats.duration(operation, 'l2', started);
      this.breaker.success();
      if (namespace) this.stats.count(namespace, 'l2', 'deletes');
    } catch (error) {
      this.breaker.failure();
      this.logger.warn(`invalidation deferred until Redis answers: ${String(error)}`);
      this.pending.add(invalidation.keys, invalidation.tags);
      return this.sendOnChannel(invalidation);
    }
    await Promise.all([this.broadcast(invalidation), this.sendOnChannel(invalidation)]);
  }

  private async broadcast(message: BusMessage, waitForAcks = true): Promise<void> {
    if (!this.bus || !this.usingRedis) return;
    await this.bus.publish(message, waitForAcks).catch((error: unknown) => {
      this.logger.debug(`bus publish failed: ${String(error)}`);
    });
  }

  /**
   * Sends an invalidation through the second channel too, before the write
   * returns, whatever this instance's view of Redis: the Redis bus reaches
   * only the instances subscribed at that moment, and one that cannot hear
   * it (its breaker open) trusts its L1 only up to the channel's barrier.
   * When the channel fails, the instances that cannot hear the bus learn of
   * the invalidation only when Redis is back (queued replay, reconnect rule),
   * so it is logged as an error.
   */
  private async sendOnChannel(invalidation: ChannelInvalidation): Promise<void> {
    if (!this.channel || (invalidation.keys.length === 0 && invalidation.tags.length === 0)) return;
    try {
      await this.channel.publish(invalidation);
    } catch (error) {
      this.logger.error(`invalidation not sent on the channel: ${String(error)}`);
    }
  }

  private onChannelMessage(invalidation: ChannelInvalidation): void {
    if (invalidation.all) {
      this.dropL1();
      return;
    }
    this.onBusMessage(invalidation);
  }

  private onBusMessage(
    message: Readonly<Pick<BusMessage, 'released'>> & { keys?: readonly string[]; tags?: readonly string[] },
  ): void {
    const keys = message.keys ?? [];
    const tags = message.tags ?? [];
    for (const key of keys) this.l1.delete(key);
    if (tags.length) this.l1.deleteTagged(tags);
    if (keys.length || tags.length) this.tracker.note(keys, tags);
    if (message.released) this.redisLock?.notifyReleased(message.released);
  }

  /** Drops every L1 entry; loads in flight do not store theirs (they may predate a missed invalidation). */
  private dropL1(): void {
    this.l1.clear();
    this.tracker.noteAll();
  }

  private onBreakerChange(state: BreakerState): void {
    this.stats.breakerChanged(state);
    this.background.run(() => {
      if (state === 'open') {
        this.logger.warn('Redis unavailable: breaker open, serving from L1 and loaders');
        this.startProbe();
      } else {
        this.logger.log('Redis back: breaker closed');
      }
    });
  }

  /**
   * While the breaker is open, probe Redis; on success replay, apply the
   * reconnect rule, close. The timer is armed in the background scope: a
   * failed write of some request may start it.
   */
  private startProbe(): void {
    if (this.probe || !this.redis) return;
    this.background.run(() => {
      this.probe = setInterval(() => void this.tryRecover(), this.options.probeIntervalMs);
      this.probe.unref();
    });
  }

  private async tryRecover(): Promise<void> {
    if (this.recovering || !this.redis || !this.l2) return;
    this.recovering = true;
    try {
      await this.redis.ping();
      // The bus must hear again before L1 is trusted: a lost subscriber
      // connection would otherwise keep stale copies with the breaker closed.
      if (!this.redis.subscriberReady) throw new Error('subscriber not connected yet');
      await this.bus?.start();
      await this.replayPending();
      clearInterval(this.probe);
      this.probe = undefined;
      // Closed: the probe only had a failed write's deletes to replay.
      if (this.breaker.closed) return;
      // Reconnect rule: any L1 entry may have missed an invalidation published
      // while this instance could not hear the bus, and there is no log to
      // tell which: drop them all (L2 refills L1 within one round trip each).
      this.dropL1();
      this.breaker.close();
    } catch (error) {
      this.logger.debug(`Redis probe failed: ${String(error)}`);
    } finally {
      this.recovering = false;
    }
  }

  /**
   * Sends the invalidations made while Redis was unreachable (or after a
   * failed write), in batches, and applies them to this L1 too: a copy read
   * from L2 in between must go, and the bus does not echo to its sender.
   * On failure they stay queued.
   */
  private async replayPending(): Promise<void> {
    const { keys, tags } = this.pending.drain();
    try {
      await this.l2!.invalidateTags(tags);
      for (let i = 0; i < keys.length; i += REPLAY_BATCH) await this.l2!.delete(keys.slice(i, i + REPLAY_BATCH));
      if (tags.length) await this.bus?.publish({ tags });
      for (let i = 0; i < keys.length; i += REPLAY_BATCH)
        await this.bus?.publish({ keys: keys.slice(i, i + REPLAY_BATCH) });
    } catch (error) {
      this.pending.add(keys, tags);
      throw error;
    }
    for (const key of keys) this.l1.delete(key);
    this.l1.deleteTagged(tags);
    this.tracker.note(keys, tags);
  }
}

/** A tags option as a list (a function of the value is called). */
function resolveTags<T>(tags: SetOptions<T>['tags'], value: T): readonly string[] | undefined {
  return typeof tags === 'function' ? tags(value) : tags;
}
