import type { Provider } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { RedisConnection } from '@app/redis';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { CACHE_OPTIONS } from './cache.module-definition';
import { resolveCacheOptions, type CacheModuleOptions, type ResolvedCacheOptions } from './cache.options';
import { CACHE_RESOLVED_OPTIONS, cacheToken } from './cache.constants';
import { CacheService } from './cache.service';
import { GuardedKeyvStore } from './guarded-keyv-store';
import { DistributedLock } from './lock/distributed-lock';

/** `DistributedLock`: the tiered cache's own (same Redis connection, breaker, key layout and bus). */
export const distributedLockProvider: Provider = {
  provide: DistributedLock,
  inject: [CacheService],
  useFactory: (cache: CacheService) => cache.lock,
};

/** The module's options resolved once (`resolveCacheOptions`), for every provider that needs them. */
export const resolvedOptionsProvider: Provider = {
  provide: CACHE_RESOLVED_OPTIONS,
  inject: [CACHE_OPTIONS],
  useFactory: (options: CacheModuleOptions) => resolveCacheOptions(options),
};

/**
 * Nest's standard `CACHE_MANAGER` (cache-manager 7 over Keyv), so existing
 * code and `CacheInterceptor` keep working. It shares the Redis connection
 * (`@keyv/redis` over our node-redis client) under `{prefix}:cm::`, and the
 * tiered cache's breaker and command deadline (`GuardedKeyvStore`): a paused
 * or dead Redis makes its reads misses and its writes no-ops within one
 * deadline, at once while the breaker is open. Otherwise it is plain
 * cache-manager: one tier. New code uses `CacheService`.
 */
export const cacheManagerProvider: Provider = {
  provide: CACHE_MANAGER,
  inject: [CACHE_RESOLVED_OPTIONS, CacheService, { token: RedisConnection, optional: true }],
  useFactory: (resolved: ResolvedCacheOptions, cache: CacheService, redis?: RedisConnection) => {
    const namespace = `${resolved.prefix}:cm`;
    const useRedis = resolved.backend !== 'memory' && redis?.enabled;
    const store = useRedis
      ? new Keyv({
          store: new GuardedKeyvStore(new KeyvRedis(redis.client, { throwOnErrors: true }), (call) =>
            cache.runOnRedis(call),
          ),
          namespace,
          useKeyPrefix: false,
        })
      : new Keyv({ namespace });
    return createCache({ stores: [store], ttl: resolved.defaultTtlMs });
  },
};

/** Providers of `@InjectCache(name)` for the given namespaces. */
export function namespaceProviders(namespaces: readonly string[]): Provider[] {
  return namespaces.map((name) => ({
    provide: cacheToken(name),
    inject: [CacheService],
    useFactory: (cache: CacheService) => cache.namespace(name),
  }));
}
