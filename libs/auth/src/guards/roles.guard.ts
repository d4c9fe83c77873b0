import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AUTH_REFLECTOR, ROLES_KEY, type Role } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { CachedReflector } from './cached-reflector';
import type { AuthenticatedUser } from '../tokens/access-token.claims';

/** `@Roles(...)`: 403 for an authenticated caller without the role. Runs after `JwtAuthGuard`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(@Inject(AUTH_REFLECTOR) private readonly reflector: CachedReflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles?.length) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user) throw AuthError.unauthenticated('Authentication required');
    if (!roles.includes(user.role)) throw new AuthError('E_AUTH_FORBIDDEN', 'Insufficient role');
    return true;
  }
}
