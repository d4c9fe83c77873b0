/** Metric names of the design (Prometheus naming: unit suffix, `_total` on counters). */
export const METRIC = {
  httpRequestDuration: 'http_request_duration_seconds',
  cacheHits: 'cache_hits_total',
  cacheMisses: 'cache_misses_total',
  cacheOperationDuration: 'cache_operation_duration_seconds',
  cacheMemoryUsage: 'cache_memory_usage_bytes',
  cacheHitRatio: 'cache_hit_ratio',
  cacheStaleHits: 'cache_stale_hits_total',
  cacheSets: 'cache_sets_total',
  cacheDeletes: 'cache_deletes_total',
  cacheErrors: 'cache_errors_total',
  cacheBreakerState: 'cache_breaker_state',
  cacheBreakerTransitions: 'cache_breaker_transitions_total',
  cacheBusMessages: 'cache_bus_messages_total',
  cacheLockAcquisitions: 'cache_lock_acquisitions_total',
  httpCacheResponses: 'http_cache_responses_total',
  httpCacheNotModified: 'http_cache_not_modified_total',
  httpCacheServedBytes: 'http_cache_served_bytes_total',
  httpCacheUnstored: 'http_cache_unstored_total',
  aiCompletionRequests: 'ai_completion_requests_total',
  aiTokensSaved: 'ai_tokens_saved_total',
  aiCostSaved: 'ai_cost_saved_total',
  aiProviderDuration: 'ai_provider_duration_seconds',
} as const;

/** Label value of every request that matched no route: unknown URLs must not grow the label set. */
export const UNMATCHED_ROUTE = 'UNMATCHED';

/** Token of the resolved `MetricsModule` options. */
/** HTTP latency buckets in seconds: from an L1 hit (sub-millisecond) to a slow AI completion. */
export const HTTP_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Cache operation buckets in seconds: an L1 get is microseconds, a Redis round trip about a millisecond. */
export const CACHE_DURATION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/** AI provider call buckets in seconds: a local model in milliseconds to a long completion in a minute. */
export const AI_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The OpenAPI security scheme of `GET /metrics`'s optional token (the app's document declares it). */
export const METRICS_SECURITY = 'metricsToken';
