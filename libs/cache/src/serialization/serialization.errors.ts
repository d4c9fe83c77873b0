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
