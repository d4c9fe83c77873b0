import type { ExecutionContext } from '@nestjs/common';
import { hash } from 'node:crypto';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import { STRICT_THROTTLE_KEY, THROTTLER } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth.options';
import { normalizeEmail } from '../users/user-accounts.service';
import { clientAddressKey } from './client-address';

/** The request fields the trackers read. */
export interface TrackedRequest {
  ip?: string;
  user?: { id: string };
  body?: unknown;
}

/** The message of every 429. */
export const THROTTLE_MESSAGE = 'Too many requests';

/** The general limit's caller: the user, or the address (an IPv6 caller's /56) when anonymous. */
export const generalTracker = (req: TrackedRequest): string =>
  req.user ? `u:${req.user.id}` : `ip:${clientAddressKey(req.ip)}`;

const request = (context: ExecutionContext) => context.switchToHttp().getRequest<TrackedRequest>();
const strict = (context: ExecutionContext) =>
  Reflect.getMetadata(STRICT_THROTTLE_KEY, context.getHandler()) as { perEmail: boolean } | undefined;
const isStrict = (context: ExecutionContext) => strict(context) !== undefined;
const perEmail = (context: ExecutionContext) => strict(context)?.perEmail === true;

/**
 * The email a login or register body names, normalised as the DTOs and the
 * accounts normalise it (guards run before validation: a non-string is no
 * email, and validation refuses it). Any string counts, whatever its length:
 * padding an email with spaces must not step around its counter, and the
 * key is a hash anyway.
 */
function bodyEmail(context: ExecutionContext): string | undefined {
  const body = request(context).body as { email?: unknown } | undefined;
  const email = body?.email;
  return typeof email === 'string' ? normalizeEmail(email) : undefined;
}

/**
 * One counter per throttler and caller across all routes (not per route, as
 * the library's default key is). Emails and IPs are hashed so none appears in
 * a key; a user id is no secret, and hashing it would cost every request.
 */
export const generateKey = (_context: ExecutionContext | undefined, tracker: string, name: string): string =>
  tracker.startsWith('u:') ? `${name}:${tracker}` : hash('sha256', `${name}:${tracker}`, 'base64url');

/**
 * Three throttlers: every route per caller (user id, or IP when anonymous),
 * and on `@StrictThrottle()` routes every attempt per IP (login and register:
 * credential stuffing from one address) and per email (register only). Login
 * attempts per email are limited by failures, not here: see `LoginLimiter`.
 */
export function throttlerOptions(options: ResolvedAuthOptions): ThrottlerModuleOptions {
  const { authLimit, authTtl, userLimit, userTtl } = options.throttle;
  return {
    errorMessage: THROTTLE_MESSAGE,
    generateKey,
    throttlers: [
      {
        name: THROTTLER.user,
        limit: userLimit,
        ttl: userTtl * 1000,
        getTracker: generalTracker,
        // 0 turns the general limit off.
        skipIf: userLimit === 0 ? () => true : undefined,
      },
      {
        name: THROTTLER.authIp,
        limit: authLimit,
        ttl: authTtl * 1000,
        skipIf: (context) => !isStrict(context),
        getTracker: (req: TrackedRequest) => `ip:${clientAddressKey(req.ip)}`,
      },
      {
        name: THROTTLER.authEmail,
        limit: authLimit,
        ttl: authTtl * 1000,
        skipIf: (context) => !perEmail(context) || bodyEmail(context) === undefined,
        getTracker: (_req, context) => `email:${bodyEmail(context)}`,
      },
    ],
  };
}
