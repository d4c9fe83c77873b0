import { HttpException, HttpStatus } from '@nestjs/common';

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
  E_AUTH_THROTTLED: HttpStatus.TOO_MANY_REQUESTS,
  E_NOT_FOUND: HttpStatus.NOT_FOUND,
  E_FORBIDDEN: HttpStatus.FORBIDDEN,
  E_CONFLICT: HttpStatus.CONFLICT,
  E_CONVERSATION_NOT_FOUND: HttpStatus.NOT_FOUND,
  E_CONVERSATION_VERSION_CONFLICT: HttpStatus.CONFLICT,
  // The provider's answer came too late to be stored: a gateway's timeout, not the client's fault.
  E_CONVERSATION_EXCHANGE_ABANDONED: HttpStatus.GATEWAY_TIMEOUT,
  E_AI_PROVIDER: HttpStatus.BAD_GATEWAY,
};

/** A coded library error as HTTP: status, client-safe message and, for a limit, the `Retry-After` seconds. */
export interface DomainErrorResponse {
  status: number;
  message: string;
  retryAfter?: number;
}

/** The status and client-safe message of a coded library error, if it is one. */
export function domainError(exception: unknown): DomainErrorResponse | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { code, retryAfterSeconds } = exception as Error & { code?: unknown; retryAfterSeconds?: unknown };
  const status = typeof code === 'string' ? STATUS_BY_CODE[code] : undefined;
  if (status === undefined) return undefined;
  const retryAfter = typeof retryAfterSeconds === 'number' ? retryAfterSeconds : undefined;
  return { status, message: exception.message, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

/**
 * True when an error is a server-side failure (5xx: a database outage, a
 * bug), false for an answer to the client (4xx: not found, forbidden,
 * validation). The HTTP cache serves a stale response only for the former.
 */
export function isServerFailure(exception: unknown): boolean {
  if (exception instanceof HttpException) return exception.getStatus() >= 500;
  return (domainError(exception)?.status ?? 500) >= 500;
}
