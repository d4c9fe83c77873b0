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
    /**
     * Verified access tokens remembered (LRU, each until its own `exp`), so a
     * repeated token skips the signature check; revocation is still checked
     * on every request. 0 turns the cache off. @default 10000
     */
    tokenCacheSize?: number;
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
    /**
     * How often each instance adds its general-limit counts to the shared
     * counters in Redis and reads back the totals, ms. Requests are counted in
     * memory in between, so the general limit costs no Redis call per request;
     * the price is that instances see each other's requests up to this late
     * (see the README's rate-limit section for the bound). The login limits
     * are exact: one Redis call per attempt. @default 250
     */
    syncMs?: number;
  };
  /** How often revocations are re-read from Postgres (covers missed bus messages and Redis outages), ms. @default 2000 */
  revocationPollMs?: number;
}

export interface ResolvedAuthOptions {
  prefix: string;
  jwt: Required<Pick<AuthModuleOptions['jwt'], 'algorithm' | 'accessTtl' | 'refreshTtl' | 'tokenCacheSize'>> &
    Pick<AuthModuleOptions['jwt'], 'secret' | 'privateKey' | 'publicKey'>;
  admin?: { email: string; password: string };
  throttle: Required<NonNullable<AuthModuleOptions['throttle']>>;
  revocationPollMs: number;
}

/** Applies the documented defaults; provided once as `AUTH_RESOLVED_OPTIONS`. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const { admin, throttle = {}, jwt } = options;
  return {
    prefix: options.prefix ?? 'bp',
    jwt: { algorithm: 'HS256', accessTtl: 900, refreshTtl: 7200, tokenCacheSize: 10_000, ...jwt },
    admin: admin?.email && admin.password ? { email: admin.email, password: admin.password } : undefined,
    throttle: { authLimit: 10, authTtl: 60, userLimit: 600, userTtl: 60, syncMs: 250, ...throttle },
    revocationPollMs: options.revocationPollMs ?? 2_000,
  };
}
