import { Logger } from '@nestjs/common';
import type { RedisConnection } from '@app/redis';
import { CacheBus, type BusMessage } from './bus/cache-bus';
import type { GetOrSetOptions, L1Entry, SetOptions } from './cache-entry';
import { CacheStats, type CacheLayer } from './cache-stats';
import type { ResolvedCacheOptions } from './cache.options';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';
import { CacheArgumentError } from './errors';
import { KeyLayout, namespaceTag, safeSegment } from './keys';
import { L1Index } from './l1/l1-index';
import { LoaderLock } from './loader-lock';
import { RedisL2 } from './l2/redis-l2';
import { encodeWithLimit } from './serialization/serializer';
import { SingleFlight } from './single-flight';
import { resolveGrace, resolveTtl } from './ttl';

/** A pending invalidation, replayed to Redis when it comes back. */
interface PendingInvalidation {
  keys: string[];
  tags: string[];
}

const MAX_PENDING = 10_000;

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
  private pending: PendingInvalidation[] = [];
  private pendingOverflow = false;
  private probe?: NodeJS.Timeout;
  /** Invalidation sequence: a load that saw an invalidation of its key/tags while running is not cached. */
  private seq = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private unsubscribe?: () => void;

  constructor(
    readonly options: ResolvedCacheOptions,
    private readonly redis?: RedisConnection,
  ) {
    this.keys = new KeyLayout(options.prefix);
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
    if (!this.redis.isReady) {
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
    return this.keys.entry(safeSegment(namespace), safeSegment(key));
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
    await this.store(namespace, full, value, options, 0);
    this.noteInvalidation([full], []);
    await this.broadcast({ keys: [full] });
  }

  async mset<T>(
    namespace: string,
    entries: ReadonlyArray<{ key: string; value: T; options?: SetOptions<T> }>,
  ): Promise<void> {
    const fulls = entries.map((e) => this.entryKey(namespace, e.key));
    await Promise.all(entries.map((e, i) => this.store(namespace, fulls[i], e.value, e.options ?? {}, 0)));
    this.noteInvalidation(fulls, []);
    await this.broadcast({ keys: fulls });
  }

  /** Deletes keys everywhere: L1 here and on every instance, L2 (a tombstone). */
  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    const fulls = keys.map((k) => this.entryKey(namespace, k));
    for (const full of fulls) {
      if (this.l1.delete(full)) this.stats.count(namespace, 'l1', 'deletes');
    }
    this.noteInvalidation(fulls, []);
    await this.invalidateRemote({ keys: fulls, tags: [] }, namespace);
  }

  /** Every entry carrying one of `tags` becomes a miss on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const safe = tags.map((t) => safeSegment(t));
    this.l1.deleteTagged(safe);
    this.noteInvalidation([], safe);
    await this.invalidateRemote({ keys: [], tags: safe }, undefined);
  }

  /** Every entry of the namespace becomes a miss on every instance (O(1): the namespace is an implicit tag). */
  clearNamespace(namespace: string): Promise<void> {
    return this.invalidateTags([namespaceTag(safeSegment(namespace))]);
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
      .run(full, () => this.runLoader(namespace, full, loader, options, undefined, 0))
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
    const stale = remote?.entry ?? this.graceL1(full);
    const notBefore = remote?.now ?? 0;
    const lease = options.lockAcrossInstances && this.usingRedis ? await this.lock?.acquire(full) : undefined;
    try {
      if (lease && !lease.held) {
        const filled = await lease.waitForFill(() => this.readL2(namespace, full));
        if (filled) return filled.value as T;
      }
      return await this.runLoader(namespace, full, loader, options, stale, notBefore);
    } finally {
      if (lease?.held) await lease.release(() => this.broadcast({ filled: [full] }, false));
    }
  }

  private async runLoader<T>(
    namespace: string,
    full: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions<T>,
    stale: L1Entry | undefined,
    notBefore: number,
  ): Promise<T> {
    const startSeq = this.seq;
    const started = performance.now();
    let value: T;
    try {
      value = await loader();
    } catch (error) {
      if (stale && stale.graceUntil > Date.now()) {
        this.stats.count(namespace, 'l1', 'staleHits');
        return stale.value as T;
      }
      throw error;
    } finally {
      this.stats.duration('load', 'loader', started);
    }
    const tags = this.entryTags(namespace, options.tags);
    if (!this.invalidatedSince(startSeq, full, tags)) await this.store(namespace, full, value, options, notBefore);
    return value;
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
    const grace = resolveGrace(options.grace, o.defaultGraceMs);
    const tags = this.entryTags(namespace, options.tags);
    const { text, bytes } = encodeWithLimit(o.serializer, value, o.maxEntryBytes);
    const now = Date.now();
    this.l1.set(full, { value, expiresAt: now + ttl, graceUntil: now + ttl + grace, tags, ttlMs: ttl }, bytes);
    this.stats.count(namespace, 'l1', 'sets');
    if (!this.usingRedis) return;
    const started = performance.now();
    const write = { key: full, ttlMs: ttl, graceMs: grace, schema: o.schemaVersion, tags, payload: text, notBefore };
    const stored = await this.guard(namespace, () => this.l2!.set(write));
    this.stats.duration('set', 'l2', started);
    if (stored) this.stats.count(namespace, 'l2', 'sets');
    // The value was invalidated while it loaded: drop the local copy too.
    if (stored === false) this.l1.delete(full);
  }

  private entryTags(namespace: string, tags: readonly string[] = []): string[] {
    for (const tag of tags) if (tag === '') throw new CacheArgumentError('tags must be non-empty strings');
    return [namespaceTag(safeSegment(namespace)), ...tags.map((t) => safeSegment(t))];
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

  /** L2 read; fills L1 with the entry's remaining TTL. Undefined when L2 is off or failing. */
  private async readL2(
    namespace: string,
    full: string,
  ): Promise<{ entry?: L1Entry; fresh: boolean; now: number } | undefined> {
    if (!this.usingRedis) return undefined;
    const started = performance.now();
    const read = await this.guard(namespace, () => this.l2!.get(full));
    this.stats.duration('get', 'l2', started);
    if (!read) return undefined;
    const env = read.entry;
    if (!env || env.schema !== this.options.schemaVersion) {
      this.stats.count(namespace, 'l2', 'misses');
      return { fresh: false, now: read.now };
    }
    const value = this.options.serializer.decode(env.payload);
    const localNow = Date.now();
    const entry: L1Entry = {
      value,
      expiresAt: localNow + (env.expires - read.now),
      graceUntil: localNow + (env.graceUntil - read.now),
      tags: env.tags,
      ttlMs: env.expires - env.created,
    };
    const fresh = env.expires > read.now;
    if (fresh) {
      this.l1.set(full, entry, env.payload.length);
      this.stats.count(namespace, 'l2', 'hits');
    } else {
      this.stats.count(namespace, 'l2', 'misses');
    }
    return { entry, fresh, now: read.now };
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

  private countLayer(namespace: string, layer: CacheLayer): void {
    this.stats.count(namespace, layer, 'deletes');
  }

  /** L2 tombstones/markers and the bus; queued for replay when Redis is unreachable. */
  private async invalidateRemote(invalidation: PendingInvalidation, namespace: string | undefined): Promise<void> {
    if (!this.l2) return;
    if (!this.usingRedis) return this.queue(invalidation);
    try {
      await Promise.all([this.l2.delete(invalidation.keys), this.l2.invalidateTags(invalidation.tags)]);
      this.breaker.success();
      if (namespace) this.countLayer(namespace, 'l2');
    } catch (error) {
      this.breaker.failure();
      this.logger.warn(`invalidation deferred until Redis answers: ${String(error)}`);
      return this.queue(invalidation);
    }
    await this.broadcast({ keys: invalidation.keys, tags: invalidation.tags });
  }

  private async broadcast(message: BusMessage, waitForAcks = true): Promise<void> {
    if (!this.bus || !this.usingRedis) return;
    await this.bus.publish(message, waitForAcks).catch((error: unknown) => {
      this.logger.debug(`bus publish failed: ${String(error)}`);
    });
  }

  private queue(invalidation: PendingInvalidation): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pendingOverflow = true;
      return;
    }
    this.pending.push(invalidation);
  }

  private noteInvalidation(keys: readonly string[], tags: readonly string[]): void {
    this.seq++;
    if (this.flights.size === 0) {
      // No load is running: no load can be affected, so history can go.
      this.invalidatedAt.clear();
      return;
    }
    for (const k of keys) this.invalidatedAt.set(`k:${k}`, this.seq);
    for (const t of tags) this.invalidatedAt.set(`t:${t}`, this.seq);
  }

  private invalidatedSince(startSeq: number, full: string, tags: readonly string[]): boolean {
    if (this.seq === startSeq) return false;
    if ((this.invalidatedAt.get(`k:${full}`) ?? 0) > startSeq) return true;
    return tags.some((t) => (this.invalidatedAt.get(`t:${t}`) ?? 0) > startSeq);
  }

  private onBusMessage(message: BusMessage): void {
    const keys = message.keys ?? [];
    const tags = message.tags ?? [];
    for (const key of keys) this.l1.delete(key);
    if (tags.length) this.l1.deleteTagged(tags);
    if (keys.length || tags.length) this.noteInvalidation(keys, tags);
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

  private recovering = false;

  private async tryRecover(): Promise<void> {
    if (this.recovering || !this.redis || !this.l2) return;
    this.recovering = true;
    try {
      await this.redis.ping();
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

  /** Sends the invalidations made while Redis was unreachable; what fails stays queued. */
  private async replayPending(): Promise<void> {
    if (this.pendingOverflow) {
      this.logger.warn(
        `more than ${MAX_PENDING} invalidations were made while Redis was down; only the first were kept`,
      );
      this.pendingOverflow = false;
    }
    while (this.pending.length > 0) {
      const next = this.pending[0];
      await Promise.all([this.l2!.delete(next.keys), this.l2!.invalidateTags(next.tags)]);
      await this.bus?.publish({ keys: next.keys, tags: next.tags });
      this.pending.shift();
    }
  }
}
