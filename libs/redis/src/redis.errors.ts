/** Redis is configured but could not be reached in time. */
export class RedisUnavailableError extends Error {
  readonly code = 'E_REDIS_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/** A Redis client was asked for while no `url` is configured. */
export class RedisNotConfiguredError extends Error {
  readonly code = 'E_REDIS_NOT_CONFIGURED';

  constructor() {
    super('Redis is not configured (no url): nothing is connected');
    this.name = 'RedisNotConfiguredError';
  }
}

/** A Redis call missed its deadline: the server is paused, overloaded or unreachable. */
export class RedisTimeoutError extends Error {
  readonly code = 'E_REDIS_TIMEOUT';

  constructor(message: string) {
    super(message);
    this.name = 'RedisTimeoutError';
  }
}
