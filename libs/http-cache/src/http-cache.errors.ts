/** A `@HttpCache()` declaration or module option that cannot work (thrown at boot, never per request). */
export class HttpCacheArgumentError extends Error {
  readonly code = 'E_HTTP_CACHE_ARGUMENT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpCacheArgumentError';
  }
}
