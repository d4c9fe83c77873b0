/** Metadata key of `@HttpCache()` (on a handler or a controller). */
export const HTTP_CACHE_POLICY = 'http-cache:policy';

/** Metadata key of `@NoHttpCache()`. */
export const NO_HTTP_CACHE = 'http-cache:off';

/** Default lifetime of a cached response (ms): `CACHE_TTL_HTTP`'s default in the design. */
export const DEFAULT_HTTP_TTL_MS = 600_000;

/** The cache namespace responses live in (`{prefix}:c:http:…`). */
export const DEFAULT_HTTP_NAMESPACE = 'http';

/** Largest body stored (bytes); a larger response is sent uncached. */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

/** The `X-Cache` response header. */
export const X_CACHE = 'x-cache';

/** How a response was produced, as `X-Cache` says. */
export type CacheOutcome = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

/** The resolved module options (`ResolvedHttpCacheOptions`). */
export const HTTP_CACHE_RESOLVED_OPTIONS = 'HTTP_CACHE:RESOLVED_OPTIONS';
