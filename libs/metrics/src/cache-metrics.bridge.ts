import { Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CacheService, type CacheStatus, type LayerCounters } from '@app/cache';
import type { Counter } from 'prom-client';
import { CacheMetrics } from './cache-metrics.service';

/** How often the gauges (memory, hit ratio) are refreshed. */
const GAUGE_INTERVAL_MS = 5_000;

const BREAKER_STATES: ReadonlyArray<CacheStatus['breaker']> = ['closed', 'open', 'disabled'];

/**
 * Feeds the cache's counts, durations, bus messages and breaker changes into
 * the Prometheus metrics as they happen, and refreshes the gauges (L1 bytes,
 * hit ratios, breaker state) every few seconds. Does nothing when the
 * application has no `CacheModule`.
 */
@Injectable()
export class CacheMetricsBridge implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

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
    // Every direction from the start, so a rate() has a zero to begin from.
    for (const direction of ['published', 'received', 'ignored']) m.busMessages.inc({ direction }, 0);
    cache.observe({
      count: (namespace, layer, counter) => counters[counter].inc({ namespace, layer }),
      duration: (operation, layer, seconds) => m.duration.observe({ operation, layer }, seconds),
      bus: (direction) => m.busMessages.inc({ direction }),
      breaker: (state) => this.setBreaker(state),
    });
    this.refresh();
    this.timer = setInterval(() => this.refresh(), GAUGE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Sets the gauges from the cache's current status and counters. */
  refresh(): void {
    if (!this.cache) return;
    const status = this.cache.status();
    this.metrics.memoryUsage.set({ layer: 'l1' }, status.l1.bytes);
    this.setBreaker(status.breaker);
    for (const [namespace, layers] of Object.entries(this.cache.stats())) {
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
