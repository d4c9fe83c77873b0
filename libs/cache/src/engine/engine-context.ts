import type { CacheStats } from '../cache-stats';
import type { ResolvedCacheOptions } from '../cache.options';
import type { InvalidationTracker } from '../invalidation-tracker';
import type { KeyLayout } from '../keys';
import type { L1Index } from '../l1/l1-index';

/**
 * What the engine's parts share, one of each per `TieredCache`: the options,
 * the key layout, the L1 index, the stats and the invalidation tracker (which
 * tells a read or load in flight that its key or tags were invalidated).
 */
export interface EngineContext {
  readonly options: ResolvedCacheOptions;
  readonly keys: KeyLayout;
  readonly l1: L1Index;
  readonly stats: CacheStats;
  readonly tracker: InvalidationTracker;
}
