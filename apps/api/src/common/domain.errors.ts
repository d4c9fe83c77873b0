/** Codes of the application's own domain errors (mapped to HTTP in `http/domain-errors.ts`). */
export type DomainErrorCode = 'E_NOT_FOUND' | 'E_FORBIDDEN' | 'E_CONFLICT';

/** A domain rule said no; the message is safe to show the client. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static notFound(what: string): DomainError {
    return new DomainError('E_NOT_FOUND', `${what} not found`);
  }

  static forbidden(message = 'Not allowed'): DomainError {
    return new DomainError('E_FORBIDDEN', message);
  }
}

/** Postgres SQLSTATE of a unique-constraint violation. */
export const UNIQUE_VIOLATION = '23505';
/** Postgres SQLSTATE of a foreign-key violation (the referenced row is gone). */
export const FOREIGN_KEY_VIOLATION = '23503';

/** The SQLSTATE of a failed query (TypeORM's `QueryFailedError` carries the driver's `code`), if any. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { driverError?: { code?: unknown } } | undefined)?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The constraint a failed query violated (`pg` names it on the driver's error), if any. */
export function pgConstraint(error: unknown): string | undefined {
  const constraint = (error as { driverError?: { constraint?: unknown } } | undefined)?.driverError?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}
