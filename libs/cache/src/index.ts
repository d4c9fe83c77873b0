export { CacheModule } from './cache.module';
export { CacheService, type CacheStatus } from './cache.service';
export { NamespacedCache } from './namespaced-cache';
export { TieredCache, type EntryInspection } from './tiered-cache';
export {
  resolveCacheOptions,
  type CacheModuleOptions,
  type CacheBackend,
  type ResolvedCacheOptions,
} from './cache.options';
export type { SetOptions, GetOrSetOptions } from './cache-entry';
export type { ChannelInvalidation, ChannelListener, InvalidationChannel } from './bus/invalidation-channel';
export type { BusDirection, CacheObserver, CacheLayer, LayerCounters, LockCounters } from './cache-stats';
export { CacheDependencies, type CacheDependencySet } from './dependencies';
export { DistributedLock, type AcquireOptions, type Lease, type LockAttempt } from './lock/distributed-lock';
export { InjectCache } from './inject-cache.decorator';
export { Cached, type CachedOptions } from './cached.decorator';
export { buildKey, safeSegment, withoutSlotGroup } from './keys';
export { cacheToken } from './cache.constants';
export {
  CacheArgumentError,
  CacheBackendError,
  CacheLockError,
  CacheLockLostError,
  CacheSerializationError,
  CacheUnavailableError,
  type CacheSerializationErrorCode,
  type LockFailureReason,
} from './cache.errors';
export { jsonSerializer, type Serializer } from './serialization/serializer';
