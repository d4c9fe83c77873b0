/** A query-cache option or argument is invalid (unknown entity, bad TTL, empty tag). */
export class QueryCacheArgumentError extends Error {
  readonly code = 'E_QUERY_CACHE_ARGUMENT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryCacheArgumentError';
  }
}

/** Invalidating the tags of a committed write failed; the write stands, cached reads may be stale until their TTL. */
export class QueryCacheInvalidationError extends Error {
  readonly code = 'E_QUERY_CACHE_INVALIDATION';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryCacheInvalidationError';
  }
}
