import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import {
  cacheManagerProvider,
  distributedLockProvider,
  namespaceProviders,
  resolvedOptionsProvider,
} from './cache.providers';
import { DistributedLock } from './lock/distributed-lock';
import { CacheConfigurableModule } from './cache.module-definition';
import { CacheService } from './cache.service';
import { CachedMethodsExplorer } from './cached-methods.explorer';

/**
 * The tiered cache. `CacheModule.forRoot(options)` / `forRootAsync(...)` once
 * (global by default; uses `RedisConnection` when `RedisModule` is present),
 * then `CacheModule.forFeature(['users'])` where `@InjectCache('users')` is used.
 */
/** Holds `@InjectCache` providers; `CacheService` comes from the global `CacheModule`. */
@Module({})
class CacheFeatureModule {}

@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    CacheService,
    cacheManagerProvider,
    distributedLockProvider,
    CachedMethodsExplorer,
  ],
  exports: [CacheService, CACHE_MANAGER, DistributedLock],
})
export class CacheModule extends CacheConfigurableModule {
  /** Providers of `@InjectCache(name)` for these namespaces. */
  static forFeature(namespaces: readonly string[]): DynamicModule {
    const providers = namespaceProviders(namespaces);
    return { module: CacheFeatureModule, providers, exports: providers };
  }
}
