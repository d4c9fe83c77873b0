import { Module } from '@nestjs/common';
import { QueryCacheConfigurableModule } from './query-cache.module-definition';
import { QueryCacheLifecycle, queryCacheProvider } from './query-cache.providers';
import { QueryCache } from './query-cache';

/**
 * `QueryCacheModule.forRoot({ ttl, embeds })` (or `forRootAsync`), after
 * `CacheModule` and `TypeOrmModule`: provides `QueryCache` (global by
 * default) and attaches its subscriber to the data source at init.
 */
@Module({
  providers: [queryCacheProvider, QueryCacheLifecycle],
  exports: [QueryCache],
})
export class QueryCacheModule extends QueryCacheConfigurableModule {}
