import { HttpStatus } from '@nestjs/common';

/**
 * HTTP statuses of the libraries' coded errors: the one place where domain
 * errors become HTTP. An error whose code is not listed is a 500.
 */
const STATUS_BY_CODE: Readonly<Record<string, HttpStatus>> = {
  E_AUTH_UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  E_AUTH_INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  E_AUTH_REFRESH_INVALID: HttpStatus.UNAUTHORIZED,
  E_AUTH_REFRESH_REUSED: HttpStatus.UNAUTHORIZED,
  E_AUTH_FORBIDDEN: HttpStatus.FORBIDDEN,
  E_AUTH_SESSION_NOT_FOUND: HttpStatus.NOT_FOUND,
  E_AUTH_EMAIL_TAKEN: HttpStatus.CONFLICT,
  E_AUTH_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  E_NOT_FOUND: HttpStatus.NOT_FOUND,
  E_FORBIDDEN: HttpStatus.FORBIDDEN,
  E_CONFLICT: HttpStatus.CONFLICT,
};

/** The status and client-safe message of a coded library error, if it is one. */
export function domainError(exception: unknown): { status: number; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const code = (exception as Error & { code?: unknown }).code;
  const status = typeof code === 'string' ? STATUS_BY_CODE[code] : undefined;
  return status === undefined ? undefined : { status, message: exception.message };
}
