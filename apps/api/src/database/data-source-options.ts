import { mkdirSync } from 'node:fs';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { DatabaseConfig } from '../config/app-config';
import { migrations } from './migrations';
import { TypeOrmLogger } from './typeorm-logger';

/**
 * TypeORM options for either engine. The schema comes from migrations only
 * (never `synchronize`), the same files for Postgres and PGlite.
 */
export function dataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    migrations,
    migrationsRun: config.migrationsRun,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    // Migrations own the schema and use core gen_random_uuid(); without this
    // TypeORM runs CREATE EXTENSION "uuid-ossp" at connect, which PGlite
    // (and a Postgres without contrib or superuser rights) refuses.
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: 1_000,
  };
  if (config.kind === 'postgres') {
    return { ...common, url: config.url, extra: { max: 20, connectionTimeoutMillis: 5_000 } };
  }
  mkdirSync(config.dataDir, { recursive: true });
  // PGlite is one embedded connection: fine for development and tests, not
  // for concurrent production traffic (set DATABASE_URL there).
  return { ...common, driver: new PGliteDriver({ dataDir: config.dataDir }).driver };
}
