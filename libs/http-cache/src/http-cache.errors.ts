/** A `@HttpCache()` declaration or module option that cannot work (thrown at boot, never per request). */
export class HttpCacheArgumentError extends Error {
  readonly code = 'E_HTTP_CACHE_ARGUMENT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpCacheArgumentError';
  }
}

/** Throws `HttpCacheArgumentError` unless `value` is undefined or a finite number ≥ `min`. */
export function checkNumber(where: string, name: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min))
    throw new HttpCacheArgumentError(`${where} ${name} must be a number >= ${min}, got ${value}`);
}
