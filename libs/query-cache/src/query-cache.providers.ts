import { Injectable, type OnApplicationShutdown, type OnModuleInit, type Provider } from '@nestjs/common';
import { CacheService } from '@app/cache';
import type { DataSource } from 'typeorm';
import { resolveQueryCacheOptions } from './query-cache.constants';
import {
  QUERY_CACHE_DATA_SOURCE,
  QUERY_CACHE_OPTIONS,
  type QueryCacheModuleOptions,
} from './query-cache.module-definition';
import { QueryCache } from './query-cache';

/** `QueryCache` on the configured data source and the global `CacheService`. */
export const queryCacheProvider: Provider = {
  provide: QueryCache,
  inject: [QUERY_CACHE_OPTIONS, CacheService, QUERY_CACHE_DATA_SOURCE],
  useFactory: (options: QueryCacheModuleOptions, cache: CacheService, dataSource: DataSource) => {
    return new QueryCache(dataSource, cache.namespace(resolveQueryCacheOptions(options).namespace), options);
  },
};

/** Registers the invalidating subscriber when the module starts, and removes it at shutdown. */
@Injectable()
export class QueryCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly queryCache: QueryCache) {}

  onModuleInit(): void {
    this.queryCache.attach();
  }

  onApplicationShutdown(): void {
    this.queryCache.detach();
  }
}
