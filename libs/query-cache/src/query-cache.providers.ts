import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { CacheService } from '@app/cache';
import type { DataSource } from 'typeorm';
import { resolveQueryCacheOptions } from './query-cache.options';
import {
  QUERY_CACHE_DATA_SOURCE,
  QUERY_CACHE_OPTIONS,
  type QueryCacheModuleOptions,
} from './query-cache.module-definition';
import { PostgresInvalidationChannel } from './postgres-invalidation-channel';
import { QueryCache } from './query-cache';

/** `QueryCache` on the configured data source and the global `CacheService`. */
export const queryCacheProvider: Provider = {
  provide: QueryCache,
  inject: [QUERY_CACHE_OPTIONS, CacheService, QUERY_CACHE_DATA_SOURCE],
  useFactory: (options: QueryCacheModuleOptions, cache: CacheService, dataSource: DataSource) => {
    return new QueryCache(dataSource, cache.namespace(resolveQueryCacheOptions(options).namespace), options);
  },
};

/**
 * Registers the invalidating subscriber when the module starts, and removes
 * it at shutdown; gives the cache its Postgres invalidation channel.
 */
@Injectable()
export class QueryCacheLifecycle
  implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger('QueryCache');
  private channel?: PostgresInvalidationChannel;

  constructor(
    private readonly queryCache: QueryCache,
    private readonly cache: CacheService,
    @Inject(QUERY_CACHE_OPTIONS) private readonly options: QueryCacheModuleOptions,
    @Inject(QUERY_CACHE_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.queryCache.attach();
  }

  /** After every module's init: the cache has started (and knows whether it uses Redis). */
  async onApplicationBootstrap(): Promise<void> {
    if ((this.options.invalidationChannel ?? 'auto') === 'off') return;
    const channel = PostgresInvalidationChannel.forDataSource(this.dataSource, {
      timeoutMs: this.options.channelTimeoutMs,
    });
    if (channel && (await this.cache.useInvalidationChannel(channel))) {
      this.channel = channel;
      this.logger.log('invalidations also travel on Postgres LISTEN/NOTIFY while the Redis bus cannot carry them');
    }
  }

  /** Before any shutdown hook: the pool cannot end while the channel holds one of its connections. */
  async onModuleDestroy(): Promise<void> {
    await this.channel?.stop();
  }

  onApplicationShutdown(): void {
    this.queryCache.detach();
  }
}
