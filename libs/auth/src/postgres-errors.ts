/** Postgres SQLSTATE of a unique-constraint violation. */
export const UNIQUE_VIOLATION = '23505';
/** Postgres SQLSTATE of a foreign-key violation (the referenced row is gone). */
export const FOREIGN_KEY_VIOLATION = '23503';

/** The SQLSTATE of a failed query (TypeORM's `QueryFailedError` keeps the driver's error), if any. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}
