import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/**
 * `@nestjs/throttler`'s guard; a limit hit by a named throttler (`auth-ip`,
 * `auth-email`) also sets the standard `Retry-After`, not only
 * `Retry-After-auth-ip`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override setResponseHeader(res: Record<string, unknown>, name: string, value: string | number): void {
    super.setResponseHeader(res, name, value);
    if (name.startsWith('Retry-After-')) super.setResponseHeader(res, 'Retry-After', value);
  }
}
