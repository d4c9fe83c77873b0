import { makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { CACHE_DURATION_BUCKETS, HTTP_DURATION_BUCKETS, METRIC } from './metrics.constants';

/** Metric providers registered by `MetricsModule`. */
export const metricProviders = [
  makeHistogramProvider({
    name: METRIC.httpRequestDuration,
    help: 'HTTP request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_DURATION_BUCKETS,
  }),
  makeCounterProvider({
    name: METRIC.cacheHits,
    help: 'Cache hits, by namespace and layer (l1, l2)',
    labelNames: ['namespace', 'layer'],
  }),
  makeCounterProvider({
    name: METRIC.cacheMisses,
    help: 'Cache misses, by namespace and layer (l1, l2)',
    labelNames: ['namespace', 'layer'],
  }),
  ...(
    [
      [METRIC.cacheStaleHits, 'Stale (grace) values served because the loader failed'],
      [METRIC.cacheSets, 'Entries written'],
      [METRIC.cacheDeletes, 'Entries deleted'],
      [METRIC.cacheErrors, 'Failed cache operations (Redis errors and deadlines, undecodable or uncacheable values)'],
    ] as const
  ).map(([name, help]) =>
    makeCounterProvider({ name, help: `${help}, by namespace and layer (l1, l2)`, labelNames: ['namespace', 'layer'] }),
  ),
  makeGaugeProvider({
    name: METRIC.cacheBreakerState,
    help: 'Circuit breaker around Redis: 1 for the current state (closed, open, disabled without Redis), 0 for the others',
    labelNames: ['state'],
  }),
  makeCounterProvider({
    name: METRIC.cacheBusMessages,
    help: "Invalidation bus messages: published, received from other instances, ignored (the instance's own echo)",
    labelNames: ['direction'],
  }),
  makeHistogramProvider({
    name: METRIC.cacheOperationDuration,
    help: 'Cache operation duration in seconds, by operation (get, set, load, delete, invalidate) and layer; L1 gets are sampled, 1 in 64',
    labelNames: ['operation', 'layer'],
    buckets: CACHE_DURATION_BUCKETS,
  }),
  makeGaugeProvider({
    name: METRIC.cacheMemoryUsage,
    help: 'Bytes held by the cache, by layer',
    labelNames: ['layer'],
  }),
  makeGaugeProvider({
    name: METRIC.cacheHitRatio,
    help: 'Hit ratio since start (hits / (hits + misses)), by namespace and layer',
    labelNames: ['namespace', 'layer'],
  }),
];
