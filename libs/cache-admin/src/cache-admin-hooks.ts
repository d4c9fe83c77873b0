import { Injectable } from '@nestjs/common';

/** Loads one thing into the cache (a user, a boardroom, a user's conversations); resolves false when it does not exist. */
export type Warmer = (id: string) => Promise<boolean>;

/**
 * What the admin API asks of the application, which owns the domain: warmers
 * by kind (`POST /cache/warm/{kind}/:id`) and how to drop every cached view
 * of a user (`DELETE /cache/invalidate/users/:id`). The application
 * registers them at boot; the library knows no entity.
 */
@Injectable()
export class CacheAdminHooks {
  private readonly warmers = new Map<string, Warmer>();
  private userInvalidator?: (id: string) => Promise<void>;

  /** `kind`: the URL segment (`users`, `boardrooms`, `conversations`). */
  registerWarmer(kind: string, warmer: Warmer): void {
    this.warmers.set(kind, warmer);
  }

  warmer(kind: string): Warmer | undefined {
    return this.warmers.get(kind);
  }

  get warmerKinds(): string[] {
    return [...this.warmers.keys()];
  }

  registerUserInvalidator(invalidate: (id: string) => Promise<void>): void {
    this.userInvalidator = invalidate;
  }

  invalidateUser(id: string): Promise<void> | undefined {
    return this.userInvalidator?.(id);
  }
}
