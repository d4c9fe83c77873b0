import { CacheStats } from '../cache-stats';
import { resolveCacheOptions, type CacheModuleOptions } from '../cache.options';
import { InvalidationTracker } from '../invalidation-tracker';
import { KeyLayout } from '../keys';
import { L1Index } from '../l1/l1-index';
import type { EngineContext } from './engine-context';

/** A fresh engine context for the parts' unit specs (memory backend unless `options` says otherwise). */
export function engineContext(options: CacheModuleOptions = {}): EngineContext {
  const resolved = resolveCacheOptions({ backend: 'memory', ttlJitter: 0, ...options });
  return {
    options: resolved,
    keys: new KeyLayout(resolved.prefix),
    l1: new L1Index({ maxEntries: resolved.l1MaxEntries, maxBytes: resolved.l1MaxBytes }),
    stats: new CacheStats(),
    tracker: new InvalidationTracker(),
  };
}
