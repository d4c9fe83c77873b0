import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { AUTH_REFLECTOR, AUTH_RESOLVED_OPTIONS, STRICT_THROTTLE_KEY, THROTTLER } from '../auth.constants';
import type { ResolvedAuthOptions } from '../auth.options';
import type { CachedReflector } from '../guards/cached-reflector';

/**
 * The metadata key `@SkipThrottle()` sets for the general throttler
 * (`@nestjs/throttler` does not export its constants; the guard's spec checks
 * that this is still the key the decorator writes).
 */
export const SKIP_GENERAL_KEY = `THROTTLER:SKIP${THROTTLER.user}`;

const PASS = Promise.resolve(true);

/**
 * `@nestjs/throttler`'s guard, with three changes:
 * - a route no throttler can apply to (`@SkipThrottle()` and not a
 *   credential route, or the general limit off) passes at once, decided once
 *   per route instead of per request;
 * - route metadata is read through the auth library's `CachedReflector`
 *   (the library asks about six keys per throttler per request);
 * - a limit hit by a named throttler (`auth-ip`, `auth-email`) also sets the
 *   standard `Retry-After`, not only `Retry-After-auth-ip`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  /** Per controller class, per handler (a handler may be inherited by several controllers). */
  private readonly applies = new WeakMap<object, WeakMap<object, boolean>>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(AUTH_REFLECTOR) reflector: CachedReflector,
    @Inject(AUTH_RESOLVED_OPTIONS) private readonly auth: ResolvedAuthOptions,
  ) {
    super(options, storage, reflector);
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.anyThrottlerApplies(context) ? super.canActivate(context) : PASS;
  }

  protected override setResponseHeader(res: Record<string, unknown>, name: string, value: string | number): void {
    super.setResponseHeader(res, name, value);
    if (name.startsWith('Retry-After-')) super.setResponseHeader(res, 'Retry-After', value);
  }

  /** The login limits apply to `@StrictThrottle()` routes only (see `throttlerOptions`), the general one unless skipped. */
  private anyThrottlerApplies(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.applies.get(controller);
    if (!byHandler) this.applies.set(controller, (byHandler = new WeakMap()));
    let applies = byHandler.get(handler);
    if (applies === undefined) {
      const strict = Reflect.getMetadata(STRICT_THROTTLE_KEY, handler) === true;
      const skipped =
        this.auth.throttle.userLimit === 0 ||
        this.reflector.getAllAndOverride<boolean>(SKIP_GENERAL_KEY, [handler, controller]) === true;
      applies = strict || !skipped;
      byHandler.set(handler, applies);
    }
    return applies;
  }
}
