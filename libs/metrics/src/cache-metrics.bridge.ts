import { Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { CacheMetrics } from './cache-metrics.service';

/** How often the gauges (memory, hit ratio) are refreshed. */
const GAUGE_INTERVAL_MS = 5_000;

/**
 * Feeds the cache's counts and durations into the Prometheus metrics as they
 * happen, and refreshes the gauges (L1 bytes, hit ratios) every few seconds.
 * Does nothing when the application has no `CacheModule`.
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
    cache.observe({
      count: (namespace, layer, counter) => {
        if (counter === 'hits') this.metrics.hits.inc({ namespace, layer });
        else if (counter === 'misses') this.metrics.misses.inc({ namespace, layer });
      },
      duration: (operation, layer, seconds) => this.metrics.duration.observe({ operation, layer }, seconds),
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
    this.metrics.memoryUsage.set({ layer: 'l1' }, this.cache.status().l1.bytes);
    for (const [namespace, layers] of Object.entries(this.cache.stats())) {
      for (const layer of ['l1', 'l2'] as const) {
        const ratio = layers[layer].hitRatio;
        if (ratio !== null) this.metrics.hitRatio.set({ namespace, layer }, ratio);
      }
    }
  }
}
