import { Logger } from '@nestjs/common';
import type { GetOrSetOptions, L1Entry, SetOptions } from '../cache-entry';
import type { CacheLayer } from '../cache-stats';
import { CacheSerializationError } from '../cache.errors';
import { CacheDependencies } from '../dependencies';
import type { WriteGuard } from '../l2/redis-l2';
import type { Lease } from '../lock/distributed-lock';
import type { RedisLock } from '../lock/redis-lock';
import { SingleFlight } from '../single-flight';
import type { EngineContext } from './engine-context';
import { UNGUARDED, resolveTags, type EntryPreparer } from './entry-preparer';
import type { L1Trust, LocalTier } from './local-tier';
import type { RemoteTier } from './remote-tier';

type Loader<T> = () => Promise<T> | T;

/** What a flight returned, when it started (tracker sequence), and whether it was invalidated meanwhile. */
interface Flight<T> {
  value: T;
  start: number;
  superseded: boolean;
}

/** An expired entry a failing loader may fall back to, and the layer it came from (for the stats). */
interface GraceFallback {
  entry: L1Entry;
  layer: CacheLayer;
}

/**
 * `getOrSet`: L1, then L2, then the loader — one loader call per key in this
 * process (single flight) and, with `lockAcrossInstances`, one across
 * instances (the loader lease). The loaded value is stored under the guard of
 * the read that missed, so a load that raced an invalidation or a newer write
 * is not stored; a failing loader falls back to an entry within its grace
 * window; refresh-ahead reloads a hot entry in the background.
 */
export class LoaderRunner {
  private readonly logger = new Logger('TieredCache');
  private readonly flights = new SingleFlight();

  constructor(
    private readonly ctx: EngineContext,
    private readonly local: LocalTier,
    private readonly remote: RemoteTier,
    private readonly trust: L1Trust,
    private readonly preparer: EntryPreparer,
    private readonly redisLock: RedisLock | undefined,
  ) {}

  async getOrSet<T>(namespace: string, full: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    // Inside `CacheDependencies.track` (an HTTP response being built), this read is a dependency.
    if (typeof options.tags !== 'function')
      CacheDependencies.record(options.tags, this.preparer.declaredTtl(options.ttl));
    // An L1 hit answers here, with no further call: it is the path every hot read takes.
    if (!this.trust.needsBarrier()) {
      const local = this.freshLocal(namespace, full, loader, options);
      return local ? (local.value as T) : this.fromFlight(namespace, full, loader, options, true);
    }
    return this.lookup(namespace, full, loader, options, true);
  }

  /** This L1's fresh entry (a refresh-ahead started when it is close to expiry), or undefined. */
  private freshLocal<T>(namespace: string, full: string, loader: Loader<T>, options: GetOrSetOptions<T>) {
    const local = this.local.fresh(namespace, full);
    if (local && options.refreshAhead) this.maybeRefresh(namespace, full, local, loader, options);
    return local;
  }

  /** L1 (after the channel's barrier while the Redis bus is unheard, see `LocalTier.heard`), then the key's flight. */
  private async lookup<T>(
    namespace: string,
    full: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    mayLookAgain: boolean,
  ): Promise<T> {
    if (this.trust.needsBarrier()) {
      const local = await this.local.heard(namespace, full);
      if (local) return local.value as T;
    } else {
      const local = this.freshLocal(namespace, full, loader, options);
      if (local) return local.value as T;
    }
    return this.fromFlight(namespace, full, loader, options, mayLookAgain);
  }

  /** The key's flight (this call's load, or one in progress it joins), L1 having missed. */
  private async fromFlight<T>(
    namespace: string,
    full: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    mayLookAgain: boolean,
  ): Promise<T> {
    const joinedAt = this.ctx.tracker.position;
    let ran = false;
    const flight = await this.fly(namespace, full, options, (seen) => {
      ran = true;
      return this.load(namespace, full, loader, options, seen);
    });
    // A flight that started before an invalidation of its key or tags holds what was there
    // before. Its own caller was concurrent with that write, but a caller that joined it after
    // the invalidation came after the write (perhaps after its answer): it looks again, once (a
    // flight started after this one settled started after the invalidation).
    if (ran || !mayLookAgain || !flight.superseded || joinedAt <= flight.start) return flight.value;
    return this.lookup(namespace, full, loader, options, false);
  }

  /**
   * Runs `run` as the key's flight, or joins the one in progress, and says
   * whether the key or the tags of what it returns were invalidated while it
   * ran (`superseded`), for `lookup` to judge who may take its value.
   */
  private fly<T>(
    namespace: string,
    full: string,
    options: GetOrSetOptions<T>,
    run: (seen: { tags?: readonly string[] }) => Promise<T>,
  ): Promise<Flight<T>> {
    return this.flights.run(full, async () => {
      const { tracker } = this.ctx;
      const start = tracker.begin();
      try {
        const seen: { tags?: readonly string[] } = {};
        const value = await run(seen);
        const tags = seen.tags ?? this.preparer.tagsOf(namespace, resolveTags(options.tags, value));
        return { value, start, superseded: tracker.changed(start, full, tags) };
      } finally {
        tracker.end(start);
      }
    });
  }

  /** Starts a background reload when the entry is close to expiry; its failure is logged and counted. */
  private maybeRefresh<T>(
    namespace: string,
    full: string,
    entry: L1Entry,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
  ): void {
    const left = entry.expiresAt - Date.now();
    if (left > entry.ttlMs * (options.refreshAhead ?? 0) || this.flights.has(full)) return;
    const guard = { notBefore: this.remote.serverNowEstimate() };
    this.fly(namespace, full, options, (seen) =>
      this.runLoader(namespace, full, loader, options, undefined, guard, seen),
    ).catch((error: unknown) => {
      this.ctx.stats.count(namespace, 'l1', 'errors');
      this.logger.warn(`refresh-ahead of ${full} failed: ${String(error)}`);
    });
  }

  private async load<T>(
    namespace: string,
    full: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    seen: { tags?: readonly string[] },
  ): Promise<T> {
    // The tags this call's entries carry: L2 checks them in one MGET with the
    // entry. Tags that depend on the value are not known yet: the script reads the entry's own.
    const tags = typeof options.tags === 'function' ? undefined : this.preparer.tagsOf(namespace, options.tags);
    const remote = await this.remote.read(namespace, full, tags);
    if (remote?.fresh) {
      seen.tags = remote.entry?.tags;
      return remote.entry?.value as T;
    }
    // When Redis answered, its view wins: an entry it no longer has (deleted,
    // tag-invalidated) must not come back from L1 as a grace value.
    const stale = remote ? remote.entry : this.local.withinGrace(full);
    const staleLayer: CacheLayer = remote ? 'l2' : 'l1';
    // No answer from L2 (breaker open, or this very read failed or missed its
    // deadline): the call keeps to L1. A lease or a write would wait another
    // deadline on a Redis that just missed one.
    const guard = remote?.guard;
    const locked =
      options.lockAcrossInstances && remote
        ? await this.loaderLease(namespace, full, tags, options.lockWaitMs ?? this.ctx.options.lockWaitMs)
        : undefined;
    if (locked?.filled) {
      seen.tags = locked.filled.tags;
      return locked.filled.value as T;
    }
    const lease = locked?.lease;
    try {
      return await this.runLoader(
        namespace,
        full,
        loader,
        options,
        stale && { entry: stale, layer: staleLayer },
        guard,
        seen,
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
    const { options, keys, stats } = this.ctx;
    const name = keys.loaderLockName(full);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const attempt = await this.redisLock.attempt(name, { ttlMs: options.lockLeaseMs });
      if (attempt.lease) return { lease: attempt.lease };
      // Nobody can coordinate: load here (single flight still holds in this process).
      if (attempt.reason === 'unavailable') return undefined;
      const left = deadline - Date.now();
      if (left <= 0) {
        stats.lockEvent('busy');
        return undefined;
      }
      await this.redisLock.waitForRelease(name, Math.min(left, options.lockPollMs));
      const read = await this.remote.read(namespace, full, tags);
      // Redis stopped answering (breaker open): waiting longer cannot help.
      if (!read) return undefined;
      if (read.fresh && read.entry) return { filled: read.entry };
    }
  }

  private async runLoader<T>(
    namespace: string,
    full: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    stale: GraceFallback | undefined,
    guard: WriteGuard | undefined,
    seen: { tags?: readonly string[] } = {},
  ): Promise<T> {
    const { tracker, stats } = this.ctx;
    const start = tracker.begin();
    try {
      const started = performance.now();
      let value: T;
      try {
        value = await loader();
      } catch (error) {
        if (stale && stale.entry.graceUntil > Date.now()) {
          stats.count(namespace, stale.layer, 'staleHits');
          seen.tags = stale.entry.tags;
          return stale.entry.value as T;
        }
        throw error;
      } finally {
        stats.duration('load', 'loader', started);
      }
      if (options.cacheable && !options.cacheable(value)) return value;
      const declared = resolveTags(options.tags, value);
      if (typeof options.tags === 'function')
        CacheDependencies.record(declared, this.preparer.declaredTtl(options.ttl));
      const tags = this.preparer.entryTags(namespace, declared);
      seen.tags = tags;
      if (!tracker.changed(start, full, tags))
        await this.storeLoaded(namespace, full, value, { ...options, tags: declared }, guard);
      return value;
    } finally {
      tracker.end(start);
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
      this.ctx.stats.count(namespace, 'l1', 'errors');
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
    const entry = this.preparer.prepare(namespace, full, value, options, guard ?? UNGUARDED);
    if (guard && this.remote.available) {
      const stored = await this.remote.write(namespace, entry.write);
      // Refused: the value was loaded before an invalidation or a newer write. L1 must not get it either.
      if (stored === false) return;
    }
    this.preparer.keepInL1(namespace, entry);
  }
}
