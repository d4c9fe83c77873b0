/** Signing algorithms accepted for access tokens (one is pinned per deployment). */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Options of `AuthModule`. Times are seconds, as in the environment variables. */
export interface AuthModuleOptions {
  /**
   * Prefix of the Redis keys and channel of the auth state (`{prefix}:bl:…`,
   * `{prefix}:rl:…`, `{prefix}:bus:auth`). @default 'bp'
   */
  prefix?: string;
  jwt: {
    /** Pinned signing algorithm. @default 'HS256' */
    algorithm?: JwtAlgorithm;
    /** HMAC secret (HS256). */
    secret?: string;
    /** PEM private key (RS256, ES256). */
    privateKey?: string;
    /** PEM public key (RS256, ES256). */
    publicKey?: string;
    /** Access token lifetime. @default 900 */
    accessTtl?: number;
    /** Refresh session idle lifetime: each refresh extends it by this much. @default 7200 */
    refreshTtl?: number;
  };
  /** Creates or updates this admin account at boot when both are set. */
  admin?: { email?: string; password?: string };
  /** Rate limits (requests per window). */
  throttle?: {
    /** Login and register attempts per IP and per email, per window. @default 10 */
    authLimit?: number;
    /** Window of the login/register limit. @default 60 */
    authTtl?: number;
    /** Requests per caller (user id, or IP when anonymous) per window; 0 turns this limit off. @default 600 */
    userLimit?: number;
    /** Window of the general limit. @default 60 */
    userTtl?: number;
  };
  /** How often revocations are re-read from Postgres (covers missed bus messages and Redis outages), ms. @default 2000 */
  revocationPollMs?: number;
}

export interface ResolvedAuthOptions {
  prefix: string;
  jwt: Required<Pick<AuthModuleOptions['jwt'], 'algorithm' | 'accessTtl' | 'refreshTtl'>> &
    Pick<AuthModuleOptions['jwt'], 'secret' | 'privateKey' | 'publicKey'>;
  admin?: { email: string; password: string };
  throttle: Required<NonNullable<AuthModuleOptions['throttle']>>;
  revocationPollMs: number;
}

export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const { admin, throttle = {}, jwt } = options;
  return {
    prefix: options.prefix ?? 'bp',
    jwt: { algorithm: 'HS256', accessTtl: 900, refreshTtl: 7200, ...jwt },
    admin: admin?.email && admin.password ? { email: admin.email, password: admin.password } : undefined,
    throttle: { authLimit: 10, authTtl: 60, userLimit: 600, userTtl: 60, ...throttle },
    revocationPollMs: options.revocationPollMs ?? 2_000,
  };
}
