import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../auth.constants';
import { AuthError } from '../auth.errors';
import { RevocationService } from '../revocation/revocation.service';
import type { AuthenticatedUser } from '../tokens/access-token.claims';
import { AccessTokenService } from '../tokens/access-token.service';

interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthenticatedUser;
}

/**
 * Global guard: every route needs a valid, unrevoked access token unless it
 * is `@Public()`. The revocation check is a memory lookup; while the
 * revocation state has never been loaded it fails closed (503).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokenService,
    private readonly revocations: RevocationService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match) throw AuthError.unauthenticated('Missing bearer token');
    const user = await this.tokens.verify(match[1]);
    if (this.revocations.isRevoked(user)) throw AuthError.unauthenticated('Token has been revoked');
    request.user = user;
    return true;
  }
}
