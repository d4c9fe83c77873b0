import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AUTH_REFLECTOR, IS_PUBLIC_KEY } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { CachedReflector } from './cached-reflector';
import { RevocationService } from '../revocation/revocation.service';
import type { AuthenticatedUser } from '../tokens/access-token.claims';
import { AccessTokenService } from '../tokens/access-token.service';

interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthenticatedUser;
}

/**
 * Global guard: every route needs a valid, unrevoked access token unless it
 * is `@Public()`. Synchronous and allocation-light: verification is a cache
 * lookup for a token seen before (a signature check otherwise), and the
 * revocation check, made on every request, is a memory lookup; while the
 * revocation state is unknown it fails closed (503).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    @Inject(AUTH_REFLECTOR) private readonly reflector: CachedReflector,
    private readonly tokens: AccessTokenService,
    private readonly revocations: RevocationService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const header = request.headers.authorization;
    // RFC 9110 §11.4: the scheme is case-insensitive, then one or more spaces.
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header) : null;
    if (!match) throw AuthError.unauthenticated('Missing bearer token');
    const user = this.tokens.verify(match[1]);
    if (this.revocations.isRevoked(user)) throw AuthError.unauthenticated('Token has been revoked');
    request.user = user;
    return true;
  }
}
