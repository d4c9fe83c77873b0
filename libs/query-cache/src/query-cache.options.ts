import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryTags } from './query-tags';
import { DEFAULT_QUERY_TTL_MS } from './query-cache.constants';
import { QueryCacheArgumentError } from './query-cache.errors';

/**
 * Declares that rows of `entity` appear inside views cached under other tags
 * (a boardroom's member list shows each member's name). When such a row is
 * inserted, updated, removed or soft-removed, the tags `views` returns are
 * invalidated with the row's own. `views` is called with the row before and
 * after the write (the same row for inserts and removes), inside the writing
 * transaction (`manager` sees its uncommitted rows), and its tags are
 * invalidated after the commit.
 *
 * Writes whose rows are unknown (QueryBuilder `update`/`delete`, raw SQL)
 * cannot name views: a view that embeds `entity` must also carry its entity
 * tag (`entities: [Member]` in `wrap`, automatic for repository and
 * QueryBuilder reads that join it).
 */
export interface EmbedDeclaration<T extends ObjectLiteral = ObjectLiteral> {
  entity: EntityTarget<T>;
  views: (
    row: T,
    context: { manager: EntityManager; tags: QueryTags },
  ) => readonly string[] | Promise<readonly string[]>;
}

/**
 * An `EmbedDeclaration` typed by its entity (`views` receives that entity's
 * rows), returned in the untyped form `QueryCacheOptions.embeds` holds.
 */
export function embedIn<T extends ObjectLiteral>(
  entity: EntityTarget<T>,
  views: EmbedDeclaration<T>['views'],
): EmbedDeclaration {
  // The subscriber only calls `views` with rows of `entity`.
  return { entity, views: views as EmbedDeclaration['views'] };
}

/** Options of a `QueryCache` (and of `QueryCacheModule.forRoot`). Times are milliseconds. */
export interface QueryCacheOptions {
  /** Default time to live of a cached read. @default 300_000 (5 minutes) */
  ttl?: number;
  /** Cache namespace of query entries (`{prefix}:c:{namespace}:…` in Redis). @default 'query' */
  namespace?: string;
  /** Prefix of the tags the query cache writes and invalidates. @default 'q' */
  tagPrefix?: string;
  /**
   * How reads that join other entities are tagged. `coarse`: every write to a
   * joined entity invalidates them (always fresh, fewer hits). `declared`:
   * only writes whose rows are unknown do; row writes reach them through
   * `embeds` (fine-grained, but a missing declaration means stale views).
   * @default 'coarse'
   */
  relationTags?: 'coarse' | 'declared';
  /** Views that embed rows of other entities. @default [] */
  embeds?: readonly EmbedDeclaration[];
}

/** Per-read options of `cached(repo, options)` and of the QueryBuilder reads. */
export interface CachedReadOptions {
  /** Time to live. @default the QueryCache's `ttl` */
  ttl?: number;
  /** Extra tags (e.g. a view tag), invalidated by hand or by an `EmbedDeclaration`. @default [] */
  tags?: readonly string[];
  /**
   * Entities the read depends on that the query cache cannot see (a raw
   * subquery, a value computed from another table): writes to them
   * invalidate the read too.
   * @default []
   */
  entities?: ReadonlyArray<EntityTarget<ObjectLiteral>>;
}

/** Options with every default applied. */
export interface ResolvedQueryCacheOptions {
  ttl: number;
  namespace: string;
  tagPrefix: string;
  relationTags: 'coarse' | 'declared';
  embeds: readonly EmbedDeclaration[];
}

/** Applies the documented defaults and checks the options. */
export function resolveQueryCacheOptions(options: QueryCacheOptions): ResolvedQueryCacheOptions {
  const ttl = options.ttl ?? DEFAULT_QUERY_TTL_MS;
  if (!Number.isFinite(ttl) || ttl <= 0)
    throw new QueryCacheArgumentError(`ttl must be a positive number of ms, got ${ttl}`);
  const tagPrefix = options.tagPrefix ?? 'q';
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(tagPrefix)) {
    throw new QueryCacheArgumentError('tagPrefix must be 1-16 characters of A-Z a-z 0-9 _ -');
  }
  const relationTags = options.relationTags ?? 'coarse';
  if (relationTags !== 'coarse' && relationTags !== 'declared') {
    throw new QueryCacheArgumentError(`relationTags must be 'coarse' or 'declared'`);
  }
  return { ttl, namespace: options.namespace ?? 'query', tagPrefix, relationTags, embeds: options.embeds ?? [] };
}
