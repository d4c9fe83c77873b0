/** Stable codes of the auth library's errors; `apps/api` maps them to HTTP statuses in one place. */
export type AuthErrorCode =
  | 'E_AUTH_UNAUTHENTICATED'
  | 'E_AUTH_INVALID_CREDENTIALS'
  | 'E_AUTH_FORBIDDEN'
  | 'E_AUTH_EMAIL_TAKEN'
  | 'E_AUTH_REFRESH_INVALID'
  | 'E_AUTH_REFRESH_REUSED'
  | 'E_AUTH_SESSION_NOT_FOUND'
  | 'E_AUTH_UNAVAILABLE'
  | 'E_AUTH_THROTTLED';

/**
 * An authentication or authorization failure. Messages are safe to show to
 * the client: they never carry tokens, hashes or which half of a credential
 * pair was wrong.
 */
export class AuthError extends Error {
  /** Seconds until a throttled login may be tried again (`E_AUTH_THROTTLED` only): the `Retry-After`. */
  retryAfterSeconds?: number;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }

  /**
   * Too many failed logins for this account (from this address, or from all):
   * the same message whichever limit it is and whether the account exists.
   */
  static throttled(retryAfterSeconds: number): AuthError {
    const error = new AuthError('E_AUTH_THROTTLED', 'Too many requests');
    error.retryAfterSeconds = retryAfterSeconds;
    return error;
  }

  static unauthenticated(message = 'Invalid or expired token'): AuthError {
    return new AuthError('E_AUTH_UNAUTHENTICATED', message);
  }

  /** Fail closed: the revocation state is unknown, so no token can be trusted. */
  static unavailable(cause?: unknown): AuthError {
    return new AuthError('E_AUTH_UNAVAILABLE', 'Authentication is temporarily unavailable', { cause });
  }
}
