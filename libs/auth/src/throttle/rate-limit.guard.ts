import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AUTH_REFLECTOR, AUTH_RESOLVED_OPTIONS, STRICT_THROTTLE_KEY, THROTTLER } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth.options';
import type { CachedReflector } from '../guards/cached-reflector';
import { SharedThrottlerStorage } from './shared-throttler.storage';
import { generalTracker, generateKey, THROTTLE_MESSAGE, type TrackedRequest } from './throttler-options';

/**
 * Metadata keys `@nestjs/throttler` writes for the general throttler (the
 * library does not export its constants; the guard's spec checks that these
 * are still the keys its decorators write).
 */
export const THROTTLER_METADATA = {
  skip: `THROTTLER:SKIP${THROTTLER.user}`,
  overrides: ['LIMIT', 'TTL', 'BLOCK_DURATION', 'TRACKER', 'KEY_GENERATOR'].map(
    (k) => `THROTTLER:${k}${THROTTLER.user}`,
  ),
};

/** What a route needs from the guard, decided once per route. */
type Plan = 'none' | 'general' | 'library';

const PASS = Promise.resolve(true);

/** A route handler or controller class, as `ExecutionContext` gives them. */
type Target = ReturnType<ExecutionContext['getHandler']>;

interface HeaderReply {
  header(name: string, value: string | number): unknown;
}

/**
 * `@nestjs/throttler`'s guard, with a fast path. Per route, once:
 * - no throttler applies (`@SkipThrottle()` on a route that is not a
 *   credential route, or the general limit off): pass;
 * - only the general per-caller limit applies with its configured values
 *   (every ordinary route): counted here, synchronously, with the same
 *   tracker, key, headers and 429 as the library, because the library's
 *   guard (a dozen awaits and metadata lookups per throttler per request)
 *   cost 25 µs per request, a third of an authenticated request's CPU;
 * - anything else (login and register with their exact limits, routes with
 *   `@Throttle()` overrides): the library's guard.
 *
 * Route metadata is read through the auth library's `CachedReflector`, and a
 * limit hit by a named throttler (`auth-ip`, `auth-email`) also sets the
 * standard `Retry-After`, not only `Retry-After-auth-ip`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  /** Per controller class, per handler (a handler may be inherited by several controllers). */
  private readonly plans = new WeakMap<Target, WeakMap<Target, Plan>>();
  private readonly general: { limit: number; ttlMs: number };

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(AUTH_REFLECTOR) reflector: CachedReflector,
    @Inject(AUTH_RESOLVED_OPTIONS) private readonly auth: ResolvedAuthOptions,
    private readonly shared: SharedThrottlerStorage,
  ) {
    super(options, storage, reflector);
    this.general = { limit: auth.throttle.userLimit, ttlMs: auth.throttle.userTtl * 1000 };
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.planFor(context);
    if (plan === 'none') return PASS;
    if (plan === 'library') return super.canActivate(context);
    return this.countGeneral(context);
  }

  protected override setResponseHeader(res: Record<string, unknown>, name: string, value: string | number): void {
    super.setResponseHeader(res, name, value);
    if (name.startsWith('Retry-After-')) super.setResponseHeader(res, 'Retry-After', value);
  }

  /** The general limit, as the library would count it (block = one window, its default). */
  private countGeneral(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const key = generateKey(context, generalTracker(http.getRequest<TrackedRequest>()), THROTTLER.user);
    const { limit, ttlMs } = this.general;
    const record = this.shared.hitGeneral(key, ttlMs, limit, ttlMs);
    const reply = http.getResponse<HeaderReply>();
    if (record.isBlocked) {
      reply.header('Retry-After', record.timeToBlockExpire);
      return Promise.reject(new ThrottlerException(THROTTLE_MESSAGE));
    }
    reply.header('X-RateLimit-Limit', limit);
    reply.header('X-RateLimit-Remaining', Math.max(0, limit - record.totalHits));
    reply.header('X-RateLimit-Reset', record.timeToExpire);
    return PASS;
  }

  private planFor(context: ExecutionContext): Plan {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.plans.get(controller);
    if (!byHandler) this.plans.set(controller, (byHandler = new WeakMap()));
    let plan = byHandler.get(handler);
    if (plan === undefined) {
      plan = this.decide(handler, controller);
      byHandler.set(handler, plan);
    }
    return plan;
  }

  /** The login limits apply to `@StrictThrottle()` routes only (see `throttlerOptions`), the general one unless skipped. */
  private decide(handler: Target, controller: Target): Plan {
    const targets = [handler, controller];
    if (Reflect.getMetadata(STRICT_THROTTLE_KEY, handler) !== undefined) return 'library';
    const skipped =
      this.auth.throttle.userLimit === 0 || this.reflector.getAllAndOverride<boolean>(THROTTLER_METADATA.skip, targets);
    if (skipped) return 'none';
    const overridden = THROTTLER_METADATA.overrides.some(
      (key) => this.reflector.getAllAndOverride(key, targets) !== undefined,
    );
    return overridden ? 'library' : 'general';
  }
}
