/** Token of the per-namespace caches created by `@InjectCache(namespace)`. */
export const cacheToken = (namespace: string) => `CACHE:NAMESPACE:${namespace}`;

/** Namespace of entries written without one. */
export const DEFAULT_NAMESPACE = 'default';

/** Token of the resolved `CacheModule` options (defaults applied, checked): resolved once per module. */
export const CACHE_RESOLVED_OPTIONS = 'CACHE:RESOLVED_OPTIONS';
