import { ConfigurableModuleBuilder } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { QueryCacheOptions } from './query-cache.options';

/** Options of `QueryCacheModule.forRoot` / `forRootAsync`. */
export interface QueryCacheModuleOptions extends QueryCacheOptions {
  /**
   * The cache's second invalidation channel, Postgres LISTEN/NOTIFY (see
   * `PostgresInvalidationChannel`): `auto` adds it when the data source is
   * node-postgres and the cache uses Redis (each invalidation then costs one
   * NOTIFY more); `off` leaves instances to the Redis bus alone (an outage
   * then lets them read each other's stale L1 copies until Redis is back).
   * @default 'auto'
   */
  invalidationChannel?: 'auto' | 'off';
  /** Deadline of the channel's read barrier and NOTIFY (ms). @default 1000 */
  channelTimeoutMs?: number;
}

/** The TypeORM data source the query cache attaches to (an alias of TypeORM's own token). */
export const QUERY_CACHE_DATA_SOURCE = 'QUERY_CACHE:DATA_SOURCE';

export const { ConfigurableModuleClass: QueryCacheConfigurableModule, MODULE_OPTIONS_TOKEN: QUERY_CACHE_OPTIONS } =
  new ConfigurableModuleBuilder<QueryCacheModuleOptions>({ moduleName: 'QueryCache' })
    .setClassMethodName('forRoot')
    .setExtras(
      // `dataSourceName` is an extra, not an option: the injection token must be known before async options resolve.
      { isGlobal: true, dataSourceName: undefined as string | undefined },
      (definition, extras) => ({
        ...definition,
        global: extras.isGlobal,
        providers: [
          ...(definition.providers ?? []),
          { provide: QUERY_CACHE_DATA_SOURCE, useExisting: getDataSourceToken(extras.dataSourceName) },
        ],
      }),
    )
    .build();
