import { mkdirSync } from 'node:fs';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { DatabaseConfig } from '../config/app-config';
import { DeadlinePgClient } from './deadline-pg-client';
import { migrations } from './migrations';
import { TypeOrmLogger } from './typeorm-logger';

/** TypeORM's options plus the directory `createDataSource` must lock first (embedded PGlite only). */
export type AppDataSourceOptions = DataSourceOptions & { readonly lockDataDir?: string };

/**
 * TypeORM options for either engine. The schema comes from migrations only
 * (never `synchronize`), the same files for Postgres and PGlite.
 */
export function dataSourceOptions(config: DatabaseConfig): AppDataSourceOptions {
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
  if (config.kind === 'postgres') return { ...common, url: config.url, extra: postgresPoolOptions(config) };
  mkdirSync(config.dataDir, { recursive: true });
  // PGlite is one embedded connection: fine for development and tests, not
  // for concurrent production traffic (set DATABASE_URL there). It has no
  // network to hang on and its pool takes no options: no deadlines here.
  return { ...common, driver: new PGliteDriver({ dataDir: config.dataDir }).driver, lockDataDir: config.dataDir };
}

/**
 * Options of `pg`'s pool (TypeORM's `extra`), so that a hung server or a lost
 * network fails a request instead of holding it:
 *
 * - `connectionTimeoutMillis`: how long a request waits for a pooled
 *   connection, or for a new one to connect;
 * - `query_timeout`: the client-side deadline of a query; a connection whose
 *   query misses it is closed ({@link DeadlinePgClient});
 * - `statement_timeout`: the server cancels a statement a little before the
 *   client gives up, so a slow but healthy server keeps its connection;
 * - `keepAlive`: TCP keep-alive, so an idle connection to a vanished host is
 *   eventually noticed by the kernel.
 */
export function postgresPoolOptions(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Record<string, unknown> {
  const { queryTimeoutMs, connectTimeoutMs } = config;
  return {
    Client: DeadlinePgClient,
    max: 20,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    statement_timeout: queryTimeoutMs - Math.min(500, Math.floor(queryTimeoutMs / 5)),
    keepAlive: true,
  };
}
