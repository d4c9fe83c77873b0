/** Counters of one namespace and layer. */
export interface LayerCounters {
  hits: number;
  misses: number;
  staleHits: number;
  sets: number;
  deletes: number;
  errors: number;
}

/** The layers counted separately. */
export type CacheLayer = 'l1' | 'l2';

/** What happened to a bus message: sent, received from another instance, or ignored (this instance's own echo). */
export type BusDirection = 'published' | 'received' | 'ignored';

/**
 * What happened to `DistributedLock` acquisitions since start (loader leases
 * included): `acquired`; `busy` (gave up waiting for another owner);
 * `failed` (Redis errored or missed its deadline: fed to the breaker);
 * `skipped` (breaker open, Redis not asked); `lost` (renewal failed or found
 * another owner).
 */
export interface LockCounters {
  acquired: number;
  busy: number;
  failed: number;
  skipped: number;
  lost: number;
}

/**
 * Receives what happens in the cache as it happens (the Prometheus bridge
 * uses this). Durations: `get`/`set`/`load`/`delete`/`invalidate` per layer;
 * L1 reads are timed one in `L1_SAMPLE_EVERY`, and only while an observer
 * listens. `count` is optional: the counts are also kept here, and an
 * exporter that reads them at scrape time (`CacheService.stats()`) costs a
 * hit nothing.
 */
export interface CacheObserver {
  count?(namespace: string, layer: CacheLayer, counter: keyof LayerCounters): void;
  duration(operation: string, layer: CacheLayer | 'loader', seconds: number): void;
  /** A bus message was published, received or ignored. */
  bus?(direction: BusDirection): void;
  /** The breaker opened or closed. */
  breaker?(state: 'closed' | 'open'): void;
  /** A lock acquisition ended this way (or a lease was lost). */
  lock?(event: keyof LockCounters): void;
}

/** One L1 read in this many is timed (a power of two): timing every hit would cost more than the hit. */
export const L1_SAMPLE_EVERY = 64;

const zero = (): LayerCounters => ({ hits: 0, misses: 0, staleHits: 0, sets: 0, deletes: 0, errors: 0 });

/** Per-namespace, per-layer counters since start. */
export class CacheStats {
  private readonly byNamespace = new Map<string, Record<CacheLayer, LayerCounters>>();
  private l1Reads = 0;
  private readonly locks: LockCounters = { acquired: 0, busy: 0, failed: 0, skipped: 0, lost: 0 };
  observer?: CacheObserver;

  /** True when this L1 read should be timed: an observer listens, and one read in `L1_SAMPLE_EVERY`. */
  sampleL1(): boolean {
    return this.observer !== undefined && (++this.l1Reads & (L1_SAMPLE_EVERY - 1)) === 0;
  }

  count(namespace: string, layer: CacheLayer, counter: keyof LayerCounters): void {
    let layers = this.byNamespace.get(namespace);
    if (!layers) this.byNamespace.set(namespace, (layers = { l1: zero(), l2: zero() }));
    layers[layer][counter]++;
    this.observer?.count?.(namespace, layer, counter);
  }

  duration(operation: string, layer: CacheLayer | 'loader', started: number): void {
    this.observer?.duration(operation, layer, (performance.now() - started) / 1000);
  }

  busMessage(direction: BusDirection): void {
    this.observer?.bus?.(direction);
  }

  breakerChanged(state: 'closed' | 'open'): void {
    this.observer?.breaker?.(state);
  }

  lockEvent(event: keyof LockCounters): void {
    this.locks[event]++;
    this.observer?.lock?.(event);
  }

  /** A copy of the lock counters. */
  lockSnapshot(): LockCounters {
    return { ...this.locks };
  }

  /** A copy of every counter, with hit ratios. */
  snapshot(): Record<string, Record<CacheLayer, LayerCounters & { hitRatio: number | null }>> {
    const result: Record<string, Record<CacheLayer, LayerCounters & { hitRatio: number | null }>> = {};
    for (const [namespace, layers] of this.byNamespace) {
      const withRatio = (c: LayerCounters) => ({
        ...c,
        hitRatio: c.hits + c.misses === 0 ? null : c.hits / (c.hits + c.misses),
      });
      result[namespace] = { l1: withRatio(layers.l1), l2: withRatio(layers.l2) };
    }
    return result;
  }
}
