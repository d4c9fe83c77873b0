import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheService } from '@app/cache';
import { queryResultCacheProvider } from '@app/query-cache';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.constants';
import { dataSourceOptions } from './data-source-options';

/**
 * The TypeORM data source: Postgres when `DATABASE_URL` is set, embedded
 * PGlite otherwise. TypeORM's own query result cache (`find({ cache })`,
 * `qb.cache()`) runs on the tiered cache too, invalidated by the query
 * cache's subscriber; new code uses `QueryCache.cached()` instead.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, CacheService],
      useFactory: (config: AppConfig, cache: CacheService) => ({
        ...dataSourceOptions(config.database),
        cache: { provider: queryResultCacheProvider(cache.namespace('typeorm')), duration: config.cache.queryTtlMs },
        autoLoadEntities: true,
        // Nest's default (9 attempts, 3 s apart) holds a broken boot for half a minute.
        retryAttempts: 2,
        retryDelay: 1_000,
      }),
    }),
  ],
})
export class DatabaseModule {}
