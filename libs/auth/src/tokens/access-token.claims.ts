import type { Role } from '../auth.constants';

/** The verified claims of an access token, as the guard attaches them to the request (`request.user`). */
export interface AuthenticatedUser {
  /** User id (`sub`). */
  id: string;
  role: Role;
  /** Token id (`jti`). */
  jti: string;
  /** Refresh session the token was issued for (`sid`). */
  sid: string;
  /** Expiry, seconds since the epoch (`exp`). */
  exp: number;
}

/** An access/refresh pair as the login and refresh routes return it. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Access token lifetime in seconds. */
  expiresIn: number;
}
