import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpCacheStats } from '@app/http-cache';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { METRIC } from './metrics.constants';

/**
 * Exports the HTTP cache's counters (`HttpCacheStats`) to Prometheus, read
 * when `/metrics` is scraped: a cached response pays one integer increment,
 * not a labelled `inc`. Does nothing without `HttpCacheModule`.
 */
@Injectable()
export class HttpCacheMetricsBridge implements OnModuleInit {
  constructor(
    @InjectMetric(METRIC.httpCacheResponses) private readonly responses: Counter<'outcome'>,
    @InjectMetric(METRIC.httpCacheNotModified) private readonly notModified: Counter,
    @InjectMetric(METRIC.httpCacheServedBytes) private readonly servedBytes: Counter,
    @InjectMetric(METRIC.httpCacheUnstored) private readonly unstored: Counter<'reason'>,
    @Optional() private readonly stats?: HttpCacheStats,
  ) {}

  onModuleInit(): void {
    const stats = this.stats;
    if (!stats) return;
    // prom-client calls a metric's `collect` before reading it (see CacheMetricsBridge).
    const collect = <M extends Counter<string>>(metric: M, fill: (m: M) => void) =>
      Object.assign(metric, { collect: () => (metric.reset(), fill(metric)) });
    collect(this.responses, (m) => {
      for (const [outcome, count] of Object.entries(stats.outcomes)) m.inc({ outcome }, count);
    });
    collect(this.notModified, (m) => m.inc(stats.notModified));
    collect(this.servedBytes, (m) => m.inc(stats.servedBytes));
    collect(this.unstored, (m) => {
      for (const [reason, count] of Object.entries(stats.unstored)) m.inc({ reason }, count);
    });
  }
}
