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
  makeHistogramProvider({
    name: METRIC.cacheOperationDuration,
    help: 'Cache operation duration in seconds, by operation and layer',
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
