import { SetMetadata } from '@nestjs/common';
import { STRICT_THROTTLE_KEY } from '../auth.constants';

/** Options of `@StrictThrottle()`. */
export interface StrictThrottleOptions {
  /**
   * Count every attempt per email too (register). Login sets false: its
   * email limits count failures only (`LoginLimiter`, in the auth service),
   * so that nobody can lock an account out by sending attempts for it.
   * @default true
   */
  perEmail?: boolean;
}

/** The per-IP (and, unless turned off, per-email) attempt limits of credential routes apply here. */
export const StrictThrottle = (options: StrictThrottleOptions = {}) =>
  SetMetadata(STRICT_THROTTLE_KEY, { perEmail: options.perEmail ?? true });
