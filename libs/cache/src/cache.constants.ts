import type { CacheModuleOptions, ResolvedCacheOptions } from './cache.options';
import { CacheArgumentError } from './cache.errors';
import { jsonSerializer } from './serialization/serializer';

/** Token of the per-namespace caches created by `@InjectCache(namespace)`. */
export const cacheToken = (namespace: string) => `CACHE:NAMESPACE:${namespace}`;

/** Namespace of entries written without one. */
export const DEFAULT_NAMESPACE = 'default';

/** Applies the documented defaults. */
export function resolveCacheOptions(options: CacheModuleOptions): ResolvedCacheOptions {
  // Both end up inside Redis keys and the L2 entry header.
  if (options.prefix !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(options.prefix)) {
    throw new CacheArgumentError('prefix must be 1-32 characters of A-Z a-z 0-9 _ -');
  }
  if (options.schemaVersion !== undefined && !/^[A-Za-z0-9._-]{1,32}$/.test(options.schemaVersion)) {
    throw new CacheArgumentError('schemaVersion must be 1-32 characters of A-Z a-z 0-9 . _ -');
  }
  // A jitter outside 0..1 would make TTLs NaN or longer than maxTtlMs: refused at boot, not at the first write.
  if (options.ttlJitter !== undefined && !(options.ttlJitter >= 0 && options.ttlJitter <= 1)) {
    throw new CacheArgumentError(`ttlJitter must be between 0 and 1, got ${options.ttlJitter}`);
  }
  return {
    backend: options.backend ?? 'auto',
    prefix: options.prefix ?? 'bp',
    l1MaxEntries: options.l1MaxEntries ?? 10_000,
    l1MaxBytes: options.l1MaxBytes ?? 64 * 1024 * 1024,
    defaultTtlMs: options.defaultTtlMs ?? 300_000,
    defaultGraceMs: options.defaultGraceMs ?? 0,
    ttlJitter: options.ttlJitter ?? 0.1,
    maxEntryBytes: options.maxEntryBytes ?? 1024 * 1024,
    maxTtlMs: options.maxTtlMs ?? 7 * 24 * 3600 * 1000,
    schemaVersion: options.schemaVersion ?? '1',
    breakerThreshold: options.breakerThreshold ?? 3,
    probeIntervalMs: options.probeIntervalMs ?? 500,
    busAckTimeoutMs: options.busAckTimeoutMs ?? 250,
    lockLeaseMs: options.lockLeaseMs ?? 10_000,
    lockWaitMs: options.lockWaitMs ?? 5_000,
    lockPollMs: options.lockPollMs ?? 500,
    tombstoneMs: options.tombstoneMs ?? 60_000,
    serializer: options.serializer ?? jsonSerializer,
  };
}
