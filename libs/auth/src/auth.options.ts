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
    /**
     * Login and register attempts per IP (every attempt counts: credential
     * stuffing from one address), and register attempts per email, per
     * window. Login failures per email are limited by `login` instead.
     * @default 10
     */
    authLimit?: number;
    /** Window of the per-IP attempt limit. @default 60 */
    authTtl?: number;
    /** The login failure limits (see `LoginLimiter` and the README's rate-limit section). */
    login?: LoginLimitOptions;
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
  /**
   * How often revocations are re-read from Postgres (covers missed bus
   * messages), ms. While a configured Redis bus cannot deliver, and for 5 s
   * after it came back, they are re-read at least every 500 ms. @default 2000
   */
  revocationPollMs?: number;
}

/**
 * Login failures counted per account, never successes: per (email, IP) pair
 * tightly, per email across all addresses loosely with a growing backoff.
 * Times are seconds.
 */
export interface LoginLimitOptions {
  /** Failed logins per (email, IP) pair per window; a successful login resets the pair. @default 5 */
  pairLimit?: number;
  /** Window of the pair limit, from its first failure. @default 900 */
  pairTtl?: number;
  /** Failed logins per email from all addresses per window before the backoff starts. @default 50 */
  emailLimit?: number;
  /** Window of the per-email count, from its first failure. @default 900 */
  emailTtl?: number;
  /** First backoff of an email past `emailLimit`; doubles with every further failure in the window. @default 1 */
  backoffBase?: number;
  /** Longest backoff. @default 900 */
  backoffMax?: number;
}

export interface ResolvedAuthOptions {
  prefix: string;
  jwt: Required<Pick<AuthModuleOptions['jwt'], 'algorithm' | 'accessTtl' | 'refreshTtl' | 'tokenCacheSize'>> &
    Pick<AuthModuleOptions['jwt'], 'secret' | 'privateKey' | 'publicKey'>;
  admin?: { email: string; password: string };
  throttle: Required<Omit<NonNullable<AuthModuleOptions['throttle']>, 'login'>> & {
    login: Required<LoginLimitOptions>;
  };
  revocationPollMs: number;
}

const DEFAULT_LOGIN_LIMITS: Required<LoginLimitOptions> = {
  pairLimit: 5,
  pairTtl: 900,
  emailLimit: 50,
  emailTtl: 900,
  backoffBase: 1,
  backoffMax: 900,
};

/** Applies the documented defaults; provided once as `AUTH_RESOLVED_OPTIONS`. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  const { admin, throttle = {}, jwt } = options;
  return {
    prefix: options.prefix ?? 'bp',
    jwt: { algorithm: 'HS256', accessTtl: 900, refreshTtl: 7200, tokenCacheSize: 10_000, ...jwt },
    admin: admin?.email && admin.password ? { email: admin.email, password: admin.password } : undefined,
    throttle: {
      authLimit: throttle.authLimit ?? 10,
      authTtl: throttle.authTtl ?? 60,
      userLimit: throttle.userLimit ?? 600,
      userTtl: throttle.userTtl ?? 60,
      syncMs: throttle.syncMs ?? 250,
      login: { ...DEFAULT_LOGIN_LIMITS, ...throttle.login },
    },
    revocationPollMs: options.revocationPollMs ?? 2_000,
  };
}
