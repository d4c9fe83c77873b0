import { QueryCacheArgumentError } from './query-cache.errors';
import type { QueryCacheOptions, ResolvedQueryCacheOptions } from './query-cache.options';

/** Default TTL of a cached read: the design's 300 s for database queries. */
export const DEFAULT_QUERY_TTL_MS = 300_000;

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
