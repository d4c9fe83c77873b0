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
