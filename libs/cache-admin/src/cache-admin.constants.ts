/** The resolved module options (`ResolvedCacheAdminOptions`). */
export const CACHE_ADMIN_OPTIONS = 'CACHE_ADMIN:RESOLVED_OPTIONS';

/** Namespace of the round trips of `POST /cache/test`. */
export const ADMIN_TEST_NAMESPACE = 'admin-test';
