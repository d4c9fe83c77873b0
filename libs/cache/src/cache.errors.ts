/**
 * Every error the cache throws, each with a stable `code` and an optional
 * `cause` (the Redis error, the serializer's own, …).
 */

/** An option or argument is invalid (bad TTL, key, tag). */
export class CacheArgumentError extends Error {
  readonly code = 'E_CACHE_ARGUMENT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheArgumentError';
  }
}

/** `CACHE_BACKEND=redis` (`requireRedis`) and Redis is not configured. */
export class CacheBackendError extends Error {
  readonly code = 'E_CACHE_BACKEND';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheBackendError';
  }
}

/** Redis is skipped right now (the breaker is open, or the cache has no L2): the call was not sent. */
export class CacheUnavailableError extends Error {
  readonly code = 'E_CACHE_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
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

/** Stable codes carried by {@link CacheSerializationError}. */
export type CacheSerializationErrorCode = 'E_CACHE_SERIALIZATION' | 'E_CACHE_TOO_LARGE';

/**
 * Thrown when a value cannot be stored: unsupported type, cycle, or too large.
 * Also thrown when a stored string cannot be decoded (corrupt or foreign data),
 * so callers can treat every serializer failure as one cache-level miss.
 */
export class CacheSerializationError extends Error {
  /**
   * `E_CACHE_TOO_LARGE` when the encoded value exceeds the size limit,
   * `E_CACHE_SERIALIZATION` for everything else.
   * @default 'E_CACHE_SERIALIZATION'
   */
  readonly code: CacheSerializationErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: CacheSerializationErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CacheSerializationError';
    this.code = options?.code ?? 'E_CACHE_SERIALIZATION';
  }
}
