import type { NamespacedCache } from '@app/cache';
import type { DataSource, QueryRunner } from 'typeorm';
import type { QueryResultCache } from 'typeorm/cache/QueryResultCache';
import type { QueryResultCacheOptions } from 'typeorm/cache/QueryResultCacheOptions';
import { hashKey } from './query-key';
import { QueryTags } from './query-tags';
import { TableIndex } from './sql-tables';

/**
 * TypeORM's query result cache (`find({ cache })`, `qb.cache(...)`) on our
 * tiers, through `DataSourceOptions.cache.provider`. Entries are tagged with
 * the `all` and `list` tags of every table the SQL reads, so the query
 * cache's subscriber (when attached to the same data source, with the same
 * `tagPrefix`) invalidates them on writes, entity-wide. `remove([id])` also
 * removes TypeORM's `id-count` entry (`getManyAndCount` with a cache id).
 *
 * Unlike `QueryCache` reads, TypeORM looks up and stores in two separate
 * calls, so a store cannot be tied to the lookup that missed: a read that
 * loaded before a commit and stores after its invalidation keeps the old
 * result until its `duration` runs out. Keep durations short here.
 *
 * Inside an open transaction the cache is neither read nor written, as with
 * `QueryCache` reads: the transaction sees its own uncommitted writes, which
 * must not reach other callers through the cache (nor outlive a rollback
 * there), and an entry cached before them must not hide them from it.
 */
export class TieredQueryResultCache implements QueryResultCache {
  constructor(
    private readonly cache: NamespacedCache,
    private readonly tables: TableIndex,
    private readonly tags: QueryTags,
  ) {}

  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {}

  async synchronize(_queryRunner?: QueryRunner): Promise<void> {}

  async getFromCache(
    options: QueryResultCacheOptions,
    queryRunner?: QueryRunner,
  ): Promise<QueryResultCacheOptions | undefined> {
    if (queryRunner?.isTransactionActive) return undefined;
    return this.cache.get<QueryResultCacheOptions>(keyOf(options));
  }

  async storeInCache(
    options: QueryResultCacheOptions,
    _savedCache?: QueryResultCacheOptions,
    queryRunner?: QueryRunner,
  ): Promise<void> {
    if (queryRunner?.isTransactionActive) return;
    const tags = options.query
      ? this.tables.read(options.query).flatMap((m) => [this.tags.all(m.name), this.tags.list(m.name)])
      : [];
    const entry = {
      identifier: options.identifier,
      query: options.query,
      time: options.time,
      duration: options.duration,
      result: options.result as unknown,
    };
    await this.cache.set(keyOf(options), entry, { ttl: options.duration, tags });
  }

  isExpired(savedCache: QueryResultCacheOptions): boolean {
    return (savedCache.time ?? 0) + savedCache.duration < Date.now();
  }

  /** Invalidates this namespace (never `FLUSHDB`, unlike TypeORM's Redis cache). */
  clear(): Promise<void> {
    return this.cache.clear();
  }

  async remove(identifiers: string[]): Promise<void> {
    const keys = identifiers.flatMap((id) => [`id:${id}`, `id:${id}-count`]);
    await this.cache.delete(keys);
  }
}

function keyOf(options: QueryResultCacheOptions): string {
  return options.identifier ? `id:${options.identifier}` : `sql:${hashKey(options.query ?? '')}`;
}

/** Options of `queryResultCacheProvider`. */
export interface QueryResultCacheProviderOptions {
  /** Must equal the `QueryCache`'s `tagPrefix` for its subscriber to invalidate these entries. @default 'q' */
  tagPrefix?: string;
}

/**
 * `DataSourceOptions.cache.provider`: `cache: { provider: queryResultCacheProvider(cache.namespace('typeorm')) }`.
 */
export function queryResultCacheProvider(
  cache: NamespacedCache,
  options: QueryResultCacheProviderOptions = {},
): (dataSource: DataSource) => QueryResultCache {
  return (dataSource) =>
    new TieredQueryResultCache(cache, new TableIndex(dataSource), new QueryTags(options.tagPrefix));
}
