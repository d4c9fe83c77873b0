import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@app/redis';
import { CacheBus, type BusMessage } from './bus/cache-bus';
import type { GetOrSetOptions, L1Entry, SetOptions } from './cache-entry';
import { CacheStats, type CacheLayer } from './cache-stats';
import type { ResolvedCacheOptions } from './cache.options';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';
import { CacheArgumentError } from './errors';
import { InvalidationQueue } from './invalidation-queue';
import { InvalidationTracker } from './invalidation-tracker';
import { KeyLayout, namespaceTag, safeNamespace, safeSegment } from './keys';
import { L1Index } from './l1/l1-index';
import { LoaderLock } from './loader-lock';
import type { Envelope } from './l2/envelope';
import { RedisL2 } from './l2/redis-l2';
import { encodeWithLimit } from './serialization/serializer';
import { SingleFlight } from './single-flight';
import { resolveGrace, resolveTtl } from './ttl';

/** Keys per Redis call and bus message when replaying queued invalidations. */
const REPLAY_BATCH = 500;

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
  private readonly lock?: LoaderLock;
  private readonly pending: InvalidationQueue;
  private readonly tracker = new InvalidationTracker();
  private probe?: NodeJS.Timeout;
  private recovering = false;
  /** Redis clock minus local clock, from the last L2 read (for the late-write guard). */
  private serverOffset?: number;
  private unsubscribe?: () => void;

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
      this.bus = new CacheBus(redis, this.keys, options.busAckTimeoutMs, (m) => this.onBusMessage(m));
      this.lock = new LoaderLock(this.l2, this.keys, options.lockLeaseMs, options.lockWaitMs);
      this.breaker.onChange((state) => this.onBreakerChange(state));
    }
  }

  /** True when entries go to Redis (configured, and the breaker is closed). */
  get usingRedis(): boolean {
    return !!this.l2 && this.breaker.closed;
  }

  get breakerState(): BreakerState | 'disabled' {
    return this.l2 ? this.breaker.state : 'disabled';
  }

  /** Bus messages published and received since start (zero without Redis). */
  get busCounts(): { published: number; received: number } {
    return { ...(this.bus?.counts ?? { published: 0, received: 0 }) };
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
  }

  /** The full Redis key of an entry (namespace and key made safe). */
  entryKey(namespace: string, key: string): string {
    return this.keys.entry(safeNamespace(namespace), safeSegment(key));
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const full = this.entryKey(namespace, key);
    const local = this.freshL1(namespace, full);
    if (local) return local.value as T;
    const remote = await this.readL2(namespace, full);
    return remote?.fresh ? (remote.entry?.value as T) : undefined;
  }

  async has(namespace: string, key: string): Promise<boolean> {
    return (await this.get(namespace, key)) !== undefined;
  }

  /** Values in key order (undefined for misses); L2 reads are issued together (one pipelined round trip). */
  async mget<T>(namespace: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    return Promise.all(keys.map((k) => this.get<T>(namespace, k)));
  }

  /** Stores a value, replacing any other instance's L1 copy. */
  async set<T>(namespace: string, key: string, value: T, options: SetOptions<T> = {}): Promise<void> {
    const full = this.entryKey(namespace, key);
    this.tracker.note([full], []);
    await this.store(namespace, full, value, options, 0);
    await this.announceWrite([full]);
  }

  async mset<T>(
    namespace: string,
    entries: ReadonlyArray<{ key: string; value: T; options?: SetOptions<T> }>,
  ): Promise<void> {
    const fulls = entries.map((e) => this.entryKey(namespace, e.key));
    this.tracker.note(fulls, []);
    await Promise.all(entries.map((e, i) => this.store(namespace, fulls[i], e.value, e.options ?? {}, 0)));
    await this.announceWrite(fulls);
  }

  /**
   * Other instances must drop their L1 copies of written keys. While Redis is
   * out, the write reached neither L2 nor them: queue a delete of those keys
   * for replay, so the older L2 value cannot come back after recovery.
   */
  private async announceWrite(fulls: string[]): Promise<void> {
    if (!this.l2) return;
    if (this.usingRedis) await this.broadcast({ keys: fulls });
    else this.pending.add(fulls, []);
  }

  /** Deletes keys everywhere: L1 here and on every instance, L2 (a tombstone). */
  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    const fulls = keys.map((k) => this.entryKey(namespace, k));
    for (const full of fulls) {
      if (this.l1.delete(full)) this.stats.count(namespace, 'l1', 'deletes');
    }
    this.tracker.note(fulls, []);
    await this.invalidateRemote({ keys: fulls, tags: [] }, namespace);
  }

  /** Every entry carrying one of `tags` becomes a miss on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const safe = tags.map((t) => safeSegment(t));
    this.l1.deleteTagged(safe);
    this.tracker.note([], safe);
    await this.invalidateRemote({ keys: [], tags: safe }, undefined);
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
    const local = this.freshL1(namespace, full);
    if (local) {
      if (options.refreshAhead) this.maybeRefresh(namespace, full, local, loader, options);
      return local.value as T;
    }
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
      .run(full, () => this.runLoader(namespace, full, loader, options, undefined, this.serverNowEstimate()))
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
    const remote = await this.readL2(namespace, full);
    if (remote?.fresh) return remote.entry?.value as T;
    // When Redis answered, its view wins: an entry it no longer has (deleted,
    // tag-invalidated) must not come back from L1 as a grace value.
    const stale = remote ? remote.entry : this.graceL1(full);
    const staleLayer: CacheLayer = remote ? 'l2' : 'l1';
    const notBefore = remote?.now ?? this.serverNowEstimate();
    const lease = options.lockAcrossInstances && this.usingRedis ? await this.lock?.acquire(full) : undefined;
    try {
      if (lease && !lease.held) {
        const filled = await lease.waitForFill(() => this.readL2(namespace, full));
        if (filled) return filled.value as T;
      }
      return await this.runLoader(
        namespace,
        full,
        loader,
        options,
        stale && { entry: stale, layer: staleLayer },
        notBefore,
      );
    } finally {
      if (lease?.held) await lease.release(() => this.broadcast({ filled: [full] }, false));
    }
  }

  private async runLoader<T>(
    namespace: string,
    full: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
    stale: { entry: L1Entry; layer: CacheLayer } | undefined,
    notBefore: number,
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
      const tags = this.entryTags(namespace, options.tags);
      if (!this.tracker.changed(start, full, tags)) await this.store(namespace, full, value, options, notBefore);
      return value;
    } finally {
      this.tracker.end(start);
    }
  }

  /** Writes L1 and (breaker permitting) L2. Serialization errors reach the caller; nothing is stored then. */
  private async store<T>(
    namespace: string,
    full: string,
    value: T,
    options: SetOptions<T>,
    notBefore: number,
  ): Promise<void> {
    const o = this.options;
    const ttl = resolveTtl(options.ttl, value, { ttlMs: o.defaultTtlMs, jitter: o.ttlJitter, maxMs: o.maxTtlMs });
    const grace = resolveGrace(options.grace, o.defaultGraceMs, ttl, o.maxTtlMs);
    const tags = this.entryTags(namespace, options.tags);
    const { text, bytes } = encodeWithLimit(o.serializer, value, o.maxEntryBytes);
    if (this.usingRedis) {
      const started = performance.now();
      const write = { key: full, ttlMs: ttl, graceMs: grace, schema: o.schemaVersion, tags, payload: text, notBefore };
      const stored = await this.guard(namespace, () => this.l2!.set(write));
      this.stats.duration('set', 'l2', started);
      // Refused: the value was loaded before an invalidation or a newer write. L1 must not get it either.
      if (stored === false) return;
      if (stored) this.stats.count(namespace, 'l2', 'sets');
    }
    const now = Date.now();
    this.l1.set(full, { value, expiresAt: now + ttl, graceUntil: now + ttl + grace, tags, ttlMs: ttl }, bytes);
    this.stats.count(namespace, 'l1', 'sets');
  }

  /** Redis's clock now, estimated from the last read (0 when unknown: no guard). */
  private serverNowEstimate(): number {
    // A little early on purpose: an invalidation at the edge is treated as newer.
    return this.serverOffset === undefined ? 0 : Date.now() + this.serverOffset - 50;
  }

  private entryTags(namespace: string, tags: readonly string[] = []): string[] {
    for (const tag of tags) if (tag === '') throw new CacheArgumentError('tags must be non-empty strings');
    return [namespaceTag(safeNamespace(namespace)), ...tags.map((t) => safeSegment(t))];
  }

  private freshL1(namespace: string, full: string): L1Entry | undefined {
    const entry = this.l1.get(full);
    if (entry && entry.expiresAt > Date.now()) {
      this.stats.count(namespace, 'l1', 'hits');
      return entry;
    }
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
   * Undefined when L2 is off or failing.
   */
  private async readL2(
    namespace: string,
    full: string,
  ): Promise<{ entry?: L1Entry; fresh: boolean; now: number } | undefined> {
    if (!this.usingRedis) return undefined;
    const start = this.tracker.begin();
    try {
      const started = performance.now();
      const read = await this.guard(namespace, () => this.l2!.get(full));
      this.stats.duration('get', 'l2', started);
      if (!read) return undefined;
      this.serverOffset = read.now - Date.now();
      const entry = read.entry && this.toL1Entry(namespace, read.entry, read.now);
      if (!entry || read.entry!.expires <= read.now) {
        this.stats.count(namespace, 'l2', 'misses');
        return { entry, fresh: false, now: read.now };
      }
      this.stats.count(namespace, 'l2', 'hits');
      if (!this.tracker.changed(start, full, entry.tags))
        this.l1.set(full, entry, Buffer.byteLength(read.entry!.payload));
      return { entry, fresh: true, now: read.now };
    } finally {
      this.tracker.end(start);
    }
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

  /** L2 tombstones/markers and the bus; queued for replay when Redis is unreachable. */
  private async invalidateRemote(
    invalidation: { keys: string[]; tags: string[] },
    namespace: string | undefined,
  ): Promise<void> {
    if (!this.l2) return;
    if (!this.usingRedis) return this.pending.add(invalidation.keys, invalidation.tags);
    try {
      await Promise.all([this.l2.delete(invalidation.keys), this.l2.invalidateTags(invalidation.tags)]);
      this.breaker.success();
      if (namespace) this.stats.count(namespace, 'l2', 'deletes');
    } catch (error) {
      this.breaker.failure();
      this.logger.warn(`invalidation deferred until Redis answers: ${String(error)}`);
      return this.pending.add(invalidation.keys, invalidation.tags);
    }
    await this.broadcast({ keys: invalidation.keys, tags: invalidation.tags });
  }

  private async broadcast(message: BusMessage, waitForAcks = true): Promise<void> {
    if (!this.bus || !this.usingRedis) return;
    await this.bus.publish(message, waitForAcks).catch((error: unknown) => {
      this.logger.debug(`bus publish failed: ${String(error)}`);
    });
  }

  private onBusMessage(message: BusMessage): void {
    const keys = message.keys ?? [];
    const tags = message.tags ?? [];
    for (const key of keys) this.l1.delete(key);
    if (tags.length) this.l1.deleteTagged(tags);
    if (keys.length || tags.length) this.tracker.note(keys, tags);
    if (message.filled) this.lock?.notifyFilled(message.filled);
  }

  private onBreakerChange(state: BreakerState): void {
    if (state === 'open') {
      this.logger.warn('Redis unavailable: breaker open, serving from L1 and loaders');
      this.startProbe();
    } else {
      this.logger.log('Redis back: breaker closed');
    }
  }

  /** While the breaker is open, probe Redis; on success replay, apply the reconnect rule, close. */
  private startProbe(): void {
    if (this.probe || !this.redis) return;
    this.probe = setInterval(() => void this.tryRecover(), this.options.probeIntervalMs);
    this.probe.unref();
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
      // Reconnect rule: any L1 entry may have missed an invalidation published
      // while this instance could not hear the bus, and there is no log to
      // tell which: drop them all (L2 refills L1 within one round trip each).
      this.l1.clear();
      clearInterval(this.probe);
      this.probe = undefined;
      this.breaker.close();
    } catch (error) {
      this.logger.debug(`Redis probe failed: ${String(error)}`);
    } finally {
      this.recovering = false;
    }
  }

  /** Sends the invalidations made while Redis was unreachable, in batches; on failure they stay queued. */
  private async replayPending(): Promise<void> {
    const { keys, tags } = this.pending.drain();
    try {
      await this.l2!.invalidateTags(tags);
      for (let i = 0; i < keys.length; i += REPLAY_BATCH) await this.l2!.delete(keys.slice(i, i + REPLAY_BATCH));
      await this.bus?.publish({ tags });
      for (let i = 0; i < keys.length; i += REPLAY_BATCH)
        await this.bus?.publish({ keys: keys.slice(i, i + REPLAY_BATCH) });
    } catch (error) {
      this.pending.add(keys, tags);
      throw error;
    }
  }
}
