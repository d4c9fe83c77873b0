import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { CacheService, type CacheStatus, type LayerCounters, type LockCounters } from '@app/cache';
import type { Counter, Gauge } from 'prom-client';
import { CacheMetrics } from './cache-metrics.service';

/**
 * Runs `collect` whenever the metric is read (a scrape). prom-client calls
 * a metric's `collect` option before reading its values; the metrics are
 * created by their providers before the cache is known, so it is attached
 * here (the option is a plain property the library reads at scrape time).
 */
function onCollect(metric: Counter<string> | Gauge<string>, collect: () => void): void {
  Object.assign(metric, { collect });
}

const BREAKER_STATES: ReadonlyArray<CacheStatus['breaker']> = ['closed', 'open', 'disabled'];

/**
 * Exports the cache's state to Prometheus. Counts (hits, misses, stale hits,
 * sets, deletes, errors per namespace and layer), hit ratios and L1 bytes are
 * read from the cache when `/metrics` is scraped, so they are never stale and
 * a cache hit pays nothing for them (an `inc` with labels per hit was a
 * measurable part of a cached request). Durations, bus messages and breaker
 * changes are recorded as they happen. Does nothing when the application has
 * no `CacheModule`.
 */
@Injectable()
export class CacheMetricsBridge implements OnModuleInit {
  constructor(
    private readonly metrics: CacheMetrics,
    @Optional() private readonly cache?: CacheService,
  ) {}

  onModuleInit(): void {
    const cache = this.cache;
    if (!cache) return;
    const m = this.metrics;
    const counters: Record<keyof LayerCounters, Counter<'namespace' | 'layer'>> = {
      hits: m.hits,
      misses: m.misses,
      staleHits: m.staleHits,
      sets: m.sets,
      deletes: m.deletes,
      errors: m.errors,
    };
    for (const [name, counter] of Object.entries(counters) as Array<
      [keyof LayerCounters, Counter<'namespace' | 'layer'>]
    >) {
      onCollect(counter, () => this.collectCounter(counter, name));
    }
    onCollect(m.hitRatio, () => this.collectRatios());
    onCollect(m.lockAcquisitions, () => this.collectLocks());
    onCollect(m.memoryUsage, () => m.memoryUsage.set({ layer: 'l1' }, cache.status().l1.bytes));
    // Every direction from the start, so a rate() has a zero to begin from.
    for (const direction of ['published', 'received', 'ignored']) m.busMessages.inc({ direction }, 0);
    for (const to of ['open', 'closed']) m.breakerTransitions.inc({ to }, 0);
    cache.observe({
      duration: (operation, layer, seconds) => m.duration.observe({ operation, layer }, seconds),
      bus: (direction) => m.busMessages.inc({ direction }),
      breaker: (state) => {
        this.setBreaker(state);
        m.breakerTransitions.inc({ to: state });
      },
    });
    this.refresh();
  }

  /** Sets the breaker gauge from the cache's current status (the other figures are read at scrape time). */
  refresh(): void {
    if (this.cache) this.setBreaker(this.cache.status().breaker);
  }

  /** One counter's series from the cache's own cumulative counts (a counter only ever grows: the counts do too). */
  private collectCounter(counter: Counter<'namespace' | 'layer'>, name: keyof LayerCounters): void {
    counter.reset();
    for (const [namespace, layers] of Object.entries(this.cache!.stats())) {
      for (const layer of ['l1', 'l2'] as const) counter.inc({ namespace, layer }, layers[layer][name]);
    }
  }

  /** Lock outcomes from the cache's cumulative counts, every outcome present (0 included). */
  private collectLocks(): void {
    const counter = this.metrics.lockAcquisitions;
    counter.reset();
    const counts = this.cache!.lockStats();
    for (const outcome of Object.keys(counts) as Array<keyof LockCounters>) counter.inc({ outcome }, counts[outcome]);
  }

  private collectRatios(): void {
    for (const [namespace, layers] of Object.entries(this.cache!.stats())) {
      for (const layer of ['l1', 'l2'] as const) {
        const ratio = layers[layer].hitRatio;
        if (ratio !== null) this.metrics.hitRatio.set({ namespace, layer }, ratio);
      }
    }
  }

  private setBreaker(current: CacheStatus['breaker']): void {
    for (const state of BREAKER_STATES) this.metrics.breakerState.set({ state }, state === current ? 1 : 0);
  }
}
