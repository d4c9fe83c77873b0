/** Default heap ceiling of the readiness check. */
export const DEFAULT_MAX_HEAP_BYTES = 1024 * 1024 * 1024;

/** Default deadline of the database ping. */
export const DEFAULT_DATABASE_TIMEOUT_MS = 1_500;
