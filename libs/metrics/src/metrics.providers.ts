import type { Provider } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { HttpDurationHistogram } from './http-duration-histogram';
import { AI_DURATION_BUCKETS, CACHE_DURATION_BUCKETS, HTTP_DURATION_BUCKETS, METRIC } from './metrics.constants';

/**
 * `http_request_duration_seconds`, in prom-client's default registry (as the
 * other metrics): one per process, shared by every app in it, as
 * nestjs-prometheus does for its own providers.
 */
export const httpDurationProvider: Provider = {
  provide: HttpDurationHistogram,
  useFactory: () => {
    const existing = register.getSingleMetric(METRIC.httpRequestDuration);
    if (existing instanceof HttpDurationHistogram) return existing;
    return new HttpDurationHistogram(
      METRIC.httpRequestDuration,
      'HTTP request duration in seconds, by method, route pattern and status code',
      HTTP_DURATION_BUCKETS,
    ).registerIn(register);
  },
};

/** Metric providers registered by `MetricsModule`. */
export const metricProviders = [
  httpDurationProvider,
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
    name: METRIC.cacheBreakerTransitions,
    help: 'Circuit breaker changes, by the state entered (open: Redis failed or a connection was lost; closed: back on Redis)',
    labelNames: ['to'],
  }),
  makeCounterProvider({
    name: METRIC.cacheBusMessages,
    help: "Invalidation bus messages: published, received from other instances, ignored (the instance's own echo)",
    labelNames: ['direction'],
  }),
  makeCounterProvider({
    name: METRIC.cacheLockAcquisitions,
    help: 'DistributedLock acquisitions (loader leases included) by outcome: acquired, busy (wait deadline passed), failed (Redis error or deadline), skipped (breaker open); and lost leases',
    labelNames: ['outcome'],
  }),
  makeHistogramProvider({
    name: METRIC.cacheOperationDuration,
    help: 'Cache operation duration in seconds, by operation (get, set, load, delete, invalidate) and layer; L1 gets are sampled, 1 in 64',
    labelNames: ['operation', 'layer'],
    buckets: CACHE_DURATION_BUCKETS,
  }),
  makeCounterProvider({
    name: METRIC.httpCacheResponses,
    help: 'Responses of @HttpCache routes by X-Cache outcome (HIT, MISS, STALE, BYPASS)',
    labelNames: ['outcome'],
  }),
  makeCounterProvider({
    name: METRIC.httpCacheNotModified,
    help: '304 Not Modified answers of @HttpCache routes (If-None-Match matched the ETag)',
  }),
  makeCounterProvider({
    name: METRIC.httpCacheServedBytes,
    help: 'Body bytes sent from stored responses (HIT and STALE; 304s send none)',
  }),
  makeCounterProvider({
    name: METRIC.httpCacheUnstored,
    help: 'Responses of @HttpCache routes not stored, by reason (status, cookie, cache-control, body, size)',
    labelNames: ['reason'],
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
  makeCounterProvider({
    name: METRIC.aiCompletionRequests,
    help: 'Completion requests by model and result (hit, miss, stale, bypass: not cacheable, error)',
    labelNames: ['model', 'result'],
  }),
  makeCounterProvider({
    name: METRIC.aiTokensSaved,
    help: 'Tokens the completion cache saved (as the provider reported them for the answers it replayed), by model and kind (prompt, completion)',
    labelNames: ['model', 'kind'],
  }),
  makeCounterProvider({
    name: METRIC.aiCostSaved,
    help: 'Money the completion cache saved at the configured prices (AI_PRICES), by model',
    labelNames: ['model'],
  }),
  makeHistogramProvider({
    name: METRIC.aiProviderDuration,
    help: 'AI provider call duration in seconds, by model and outcome (ok, error)',
    labelNames: ['model', 'outcome'],
    buckets: AI_DURATION_BUCKETS,
  }),
];
