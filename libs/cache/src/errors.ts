/** An option or argument is invalid (bad TTL, key, tag). */
export class CacheArgumentError extends Error {
  readonly code = 'E_CACHE_ARGUMENT';

  constructor(message: string) {
    super(message);
    this.name = 'CacheArgumentError';
  }
}

/** `CACHE_BACKEND=redis` (`requireRedis`) and Redis is not configured. */
export class CacheBackendError extends Error {
  readonly code = 'E_CACHE_BACKEND';

  constructor(message: string) {
    super(message);
    this.name = 'CacheBackendError';
  }
}

/** Redis is skipped right now (the breaker is open, or the cache has no L2): the call was not sent. */
export class CacheUnavailableError extends Error {
  readonly code = 'E_CACHE_UNAVAILABLE';

  constructor(message: string) {
    super(message);
    this.name = 'CacheUnavailableError';
  }
}
