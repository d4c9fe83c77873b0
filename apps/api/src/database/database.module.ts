import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheService } from '@app/cache';
import { queryResultCacheProvider } from '@app/query-cache';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.constants';
import { dataSourceOptions } from './data-source-options';
import { createDataSource } from './data-source.factory';
import { DataDirLockedError } from './database.errors';

/**
 * The TypeORM data source: Postgres when `DATABASE_URL` is set, embedded
 * PGlite otherwise (one process per data directory: see `DataDirLock`). TypeORM's own query result cache (`find({ cache })`,
 * `qb.cache()`) runs on the tiered cache too, invalidated by the query
 * cache's subscriber; new code uses `QueryCache.cached()` instead.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, CacheService],
      useFactory: (config: AppConfig, cache: CacheService) => ({
        ...dataSourceOptions(config.database),
        // No default `duration` beyond TypeORM's 1 s: this cache has no commit-race guard (a read racing a
        // write can store the old rows after the invalidation), so callers choose short durations themselves.
        cache: { provider: queryResultCacheProvider(cache.namespace('typeorm')) },
        autoLoadEntities: true,
        // Nest's default (9 attempts, 3 s apart) holds a broken boot for half a minute.
        retryAttempts: 2,
        retryDelay: 1_000,
        // A held data directory stays held: say so at once rather than after the retries.
        toRetry: (error: unknown) => !(error instanceof DataDirLockedError),
      }),
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('TypeORM gave the data source factory no options');
        return createDataSource(options);
      },
    }),
  ],
})
export class DatabaseModule {}
