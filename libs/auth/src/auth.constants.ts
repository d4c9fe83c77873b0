/** DI token of the `AuthModuleOptions` with every default applied (resolved once). */
export const AUTH_RESOLVED_OPTIONS = 'AUTH:RESOLVED_OPTIONS';
/** DI token of the `CachedReflector` the auth guards read route metadata through. */
export const AUTH_REFLECTOR = 'AUTH:REFLECTOR';
/** Metadata key set by `@Public()`: the JWT guard lets the route through without a token. */
export const IS_PUBLIC_KEY = 'AUTH:PUBLIC';
/** Metadata key set by `@Roles(...)`. */
export const ROLES_KEY = 'AUTH:ROLES';
/** Metadata key set by `@StrictThrottle()`: the per-IP and per-email login limits apply. */
export const STRICT_THROTTLE_KEY = 'AUTH:STRICT_THROTTLE';

/** Roles of the contract. */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Names of the throttlers (also the suffix of their `X-RateLimit-*` headers). */
export const THROTTLER = { user: 'default', authIp: 'auth-ip', authEmail: 'auth-email' } as const;
