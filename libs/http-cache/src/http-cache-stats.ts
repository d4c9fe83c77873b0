import type { CacheOutcome } from './http-cache.constants';
import type { Unstorable } from './stored-response';

/**
 * The HTTP cache's own counters (the core counts hits and misses per
 * namespace and layer): responses by `X-Cache` outcome, 304s, body bytes
 * sent from stored responses, and responses not stored, by reason. Plain
 * numbers, read by the metrics library when Prometheus scrapes.
 */
export class HttpCacheStats {
  readonly outcomes: Record<CacheOutcome, number> = { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0 };
  notModified = 0;
  servedBytes = 0;
  readonly unstored: Record<Unstorable, number> = { status: 0, cookie: 0, 'cache-control': 0, body: 0, size: 0 };
}
