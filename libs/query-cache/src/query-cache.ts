import { Logger } from '@nestjs/common';
import type { NamespacedCache } from '@app/cache';
import type {
  DataSource,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
  QueryRunner,
  Repository,
  SelectQueryBuilder,
} from 'typeorm';
import { cachedRead, type ResultShape } from './cached-read';
import { CachedRepository } from './cached-repository';
import { QueryCacheArgumentError } from './query-cache.errors';
import {
  resolveQueryCacheOptions,
  type CachedReadOptions,
  type QueryCacheOptions,
  type ResolvedQueryCacheOptions,
} from './query-cache.options';
import { QueryCacheSubscriber } from './query-cache.subscriber';
import { plainKeyRead, primaryKeyReadKey, repositoryKey, sqlKey } from './query-key';
import { idOf, QueryTags } from './query-tags';
import { joinedByFind, primaryKeyOf, readTags } from './read-tags';
import { TableIndex } from './sql-tables';

/**
 * Caches TypeORM reads in the tiered cache and invalidates them on writes.
 * Framework-free: `new QueryCache(dataSource, cache.namespace('query')).attach()`;
 * `QueryCacheModule` does the same for Nest.
 *
 * - `cached(repo).findOneBy({ id })`, `.find(...)`, `.count(...)`: one line per read.
 * - `getMany(qb)`, `getOne(qb)`, `getCount(qb)`, … for QueryBuilder reads.
 * - `wrap(key, loader, { tags, entities })` for a view built by hand.
 *
 * `attach()` registers a TypeORM subscriber that invalidates, after the
 * commit, the tags of every write: see `QueryCacheSubscriber`.
 */
export class QueryCache {
  readonly options: ResolvedQueryCacheOptions;
  readonly tags: QueryTags;
  readonly tables: TableIndex;
  private readonly logger = new Logger('QueryCache');
  private readonly views = new WeakMap<Repository<ObjectLiteral>, CachedRepository<ObjectLiteral>>();
  private readonly eager = new WeakMap<EntityMetadata, Set<EntityMetadata>>();
  private subscriber?: QueryCacheSubscriber;

  constructor(
    readonly dataSource: DataSource,
    readonly cache: NamespacedCache,
    options: QueryCacheOptions = {},
  ) {
    this.options = resolveQueryCacheOptions(options);
    this.tags = new QueryTags(this.options.tagPrefix);
    this.tables = new TableIndex(dataSource);
  }

  /** Registers the invalidating subscriber on the data source (once). */
  attach(): this {
    if (!this.subscriber) {
      this.subscriber = new QueryCacheSubscriber(this, this.options.embeds);
      this.dataSource.subscribers.push(this.subscriber);
    }
    return this;
  }

  /** Removes the subscriber: writes no longer invalidate. */
  detach(): void {
    const index = this.subscriber ? this.dataSource.subscribers.indexOf(this.subscriber) : -1;
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
    this.subscriber = undefined;
  }

  /** A repository's reads through the cache (a repository, or an entity class to take the data source's). */
  cached<T extends ObjectLiteral>(
    target: Repository<T> | EntityTarget<T>,
    options?: CachedReadOptions,
  ): CachedRepository<T> {
    const repository = isRepository(target) ? target : this.dataSource.getRepository(target);
    if (options) return new CachedRepository(this, repository, options);
    // Without options the view is stateless: one per repository.
    let view = this.views.get(repository) as CachedRepository<T> | undefined;
    if (!view) this.views.set(repository, (view = new CachedRepository(this, repository)));
    return view;
  }

  getMany<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, options?: CachedReadOptions): Promise<T[]> {
    return this.readBuilder(qb, 'getMany', 'entities', () => qb.getMany(), options);
  }

  getOne<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, options?: CachedReadOptions): Promise<T | null> {
    return this.readBuilder(qb, 'getOne', 'entities', () => qb.getOne(), options);
  }

  getManyAndCount<T extends ObjectLiteral>(
    qb: SelectQueryBuilder<T>,
    options?: CachedReadOptions,
  ): Promise<[T[], number]> {
    return this.readBuilder(qb, 'getManyAndCount', 'entitiesAndCount', () => qb.getManyAndCount(), options);
  }

  getCount(qb: SelectQueryBuilder<ObjectLiteral>, options?: CachedReadOptions): Promise<number> {
    return this.readBuilder(qb, 'getCount', 'data', () => qb.getCount(), options);
  }

  getRawMany<R = ObjectLiteral>(qb: SelectQueryBuilder<ObjectLiteral>, options?: CachedReadOptions): Promise<R[]> {
    return this.readBuilder(qb, 'getRawMany', 'data', () => qb.getRawMany<R>(), options);
  }

  getRawOne<R = ObjectLiteral>(
    qb: SelectQueryBuilder<ObjectLiteral>,
    options?: CachedReadOptions,
  ): Promise<R | undefined> {
    return this.readBuilder(qb, 'getRawOne', 'data', () => qb.getRawOne<R>(), options);
  }

  /**
   * A value built by hand (a view over several queries), cached under `key`
   * with `tags`; `entities` lists what it reads, so writes to them with
   * unknown rows invalidate it too. Row writes reach it through `tags`
   * (a view tag named by an `EmbedDeclaration`, or a `rowTag`).
   */
  wrap<T>(key: string, loader: () => Promise<T>, options: CachedReadOptions = {}): Promise<T> {
    const tags = new Set(options.tags ?? []);
    for (const metadata of this.metadataOf(options.entities)) tags.add(this.tags.all(metadata.name));
    if (tags.size === 0)
      throw new QueryCacheArgumentError('wrap() needs tags or entities: nothing could invalidate it');
    return this.cache.getOrSet(`view:${key}`, loader, { ttl: options.ttl ?? this.options.ttl, tags: [...tags] });
  }

  /** Invalidates, on every instance, the reads of these rows (and lists of the entity), or every read of the entity. */
  invalidate(target: EntityTarget<ObjectLiteral>, ids?: readonly unknown[]): Promise<void> {
    const metadata = this.dataSource.getMetadata(target);
    if (!ids) return this.cache.invalidateTags([this.tags.all(metadata.name)]);
    const rows = ids.map((id) => idOf(metadata, id));
    if (rows.some((r) => r === undefined)) throw new QueryCacheArgumentError(`not a primary key of ${metadata.name}`);
    return this.cache.invalidateTags([
      this.tags.list(metadata.name),
      ...rows.map((r) => this.tags.row(metadata.name, r!)),
    ]);
  }

  /** The tag of one row's reads: `rowTag(User, 42)`, or `rowTag(Membership, { userId, boardroomId })`. */
  rowTag(target: EntityTarget<ObjectLiteral>, id: unknown): string {
    const metadata = this.dataSource.getMetadata(target);
    const row = idOf(metadata, id);
    if (row === undefined) throw new QueryCacheArgumentError(`not a primary key of ${metadata.name}`);
    return this.tags.row(metadata.name, row);
  }

  /** @internal The find-options read behind `CachedRepository`. */
  readFind<R>(
    metadata: EntityMetadata,
    method: string,
    find: ObjectLiteral | undefined,
    byKeyWhere: unknown,
    shape: ResultShape,
    load: () => Promise<R>,
    options: CachedReadOptions,
  ): Promise<R> {
    const rowId = primaryKeyOf(metadata, byKeyWhere);
    const byKey = rowId !== undefined && plainKeyRead(metadata, find);
    const key = byKey ? primaryKeyReadKey(metadata.name, method, rowId) : repositoryKey(metadata.name, method, [find]);
    const reached = byKey ? this.eagerlyJoined(metadata) : joinedByFind(metadata, find);
    const joined = [...reached, ...this.metadataOf(options.entities)];
    const scope = { main: metadata, rowId, joined };
    const tags = [...readTags(scope, this.tags, this.options.relationTags), ...(options.tags ?? [])];
    return cachedRead(
      this.cache,
      { key, tags, ttl: options.ttl ?? this.options.ttl, shape, metadata, load },
      this.logger,
    );
  }

  private readBuilder<R>(
    qb: SelectQueryBuilder<ObjectLiteral>,
    method: string,
    shape: ResultShape,
    load: () => Promise<R>,
    options: CachedReadOptions = {},
  ): Promise<R> {
    const runner = (qb as unknown as { queryRunner?: QueryRunner }).queryRunner;
    const main = qb.expressionMap.mainAlias;
    if (runner?.isTransactionActive || !main?.hasMetadata) return load();
    const [sql, parameters] = qb.getQueryAndParameters();
    const joined = new Set(this.tables.read(sql));
    for (const alias of qb.expressionMap.aliases) if (alias.hasMetadata) joined.add(alias.metadata);
    for (const metadata of this.metadataOf(options.entities)) joined.add(metadata);
    const tags = [
      ...readTags({ main: main.metadata, joined }, this.tags, this.options.relationTags),
      ...(options.tags ?? []),
    ];
    const key = sqlKey(main.metadata.name, method, sql, parameters);
    const spec = { key, tags, ttl: options.ttl ?? this.options.ttl, shape, metadata: main.metadata, load };
    return cachedRead(this.cache, spec, this.logger);
  }

  /** What a find without `relations`, `order` or relation filters joins (eager relations only), once per entity. */
  private eagerlyJoined(metadata: EntityMetadata): Set<EntityMetadata> {
    let joined = this.eager.get(metadata);
    if (!joined) this.eager.set(metadata, (joined = joinedByFind(metadata, {})));
    return joined;
  }

  private metadataOf(targets: CachedReadOptions['entities']): EntityMetadata[] {
    return (targets ?? []).map((t) => this.dataSource.getMetadata(t));
  }
}

function isRepository<T extends ObjectLiteral>(target: unknown): target is Repository<T> {
  return typeof target === 'object' && target !== null && 'metadata' in target && 'manager' in target;
}
