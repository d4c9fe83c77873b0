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

/** Why `DistributedLock.withLock` did not run its function. */
export type LockFailureReason = 'busy' | 'unavailable';

/**
 * `withLock` could not take the lock: another owner held it past the wait
 * deadline (`busy`), or Redis failed or the cache breaker is open
 * (`unavailable`; the caller decides whether to go on unlocked).
 */
export class CacheLockError extends Error {
  readonly code = 'E_CACHE_LOCK_NOT_ACQUIRED';

  constructor(
    readonly lockName: string,
    readonly reason: LockFailureReason,
    options?: { cause?: unknown },
  ) {
    super(`lock "${lockName}" not acquired (${reason})`, options);
    this.name = 'CacheLockError';
  }
}

/** The reason of a lease's aborted signal: renewal failed or found another owner (expired, stolen, failover). */
export class CacheLockLostError extends Error {
  readonly code = 'E_CACHE_LOCK_LOST';

  constructor(
    readonly lockName: string,
    options?: { cause?: unknown },
  ) {
    super(`lock "${lockName}" lost`, options);
    this.name = 'CacheLockLostError';
  }
}
