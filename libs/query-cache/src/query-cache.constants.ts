/** Default TTL of a cached read: the design's 300 s for database queries. */
export const DEFAULT_QUERY_TTL_MS = 300_000;
