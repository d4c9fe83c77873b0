import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC } from './metrics.constants';

/**
 * The cache metrics of the design, registered here so that every exporter
 * (and dashboard) sees them from boot; the cache library fills them.
 */
@Injectable()
export class CacheMetrics {
  constructor(
    @InjectMetric(METRIC.cacheHits) readonly hits: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheMisses) readonly misses: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheOperationDuration) readonly duration: Histogram<'operation' | 'layer'>,
    @InjectMetric(METRIC.cacheMemoryUsage) readonly memoryUsage: Gauge<'layer'>,
    @InjectMetric(METRIC.cacheHitRatio) readonly hitRatio: Gauge<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheStaleHits) readonly staleHits: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheSets) readonly sets: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheDeletes) readonly deletes: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheErrors) readonly errors: Counter<'namespace' | 'layer'>,
    @InjectMetric(METRIC.cacheBreakerState) readonly breakerState: Gauge<'state'>,
    @InjectMetric(METRIC.cacheBreakerTransitions) readonly breakerTransitions: Counter<'to'>,
    @InjectMetric(METRIC.cacheBusMessages) readonly busMessages: Counter<'direction'>,
    @InjectMetric(METRIC.cacheLockAcquisitions) readonly lockAcquisitions: Counter<'outcome'>,
  ) {}
}
