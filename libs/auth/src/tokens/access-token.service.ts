import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { ROLES, type Role } from '../auth.constants';
import { AuthError } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions, type ResolvedAuthOptions } from '../auth.options';
import type { AuthenticatedUser } from './access-token.claims';

/** The claims we put in a token besides the registered ones (`jti`, `iat`, `exp`). */
interface Payload {
  sub: string;
  role: Role;
  sid: string;
}

/**
 * Signs and verifies access JWTs. Verification pins the configured algorithm
 * (`alg: none` or an HS/RS confusion is refused) and checks the claims' shape.
 */
@Injectable()
export class AccessTokenService {
  private readonly options: ResolvedAuthOptions;

  constructor(
    private readonly jwt: JwtService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.options = resolveAuthOptions(options);
  }

  get ttlSeconds(): number {
    return this.options.jwt.accessTtl;
  }

  sign(userId: string, role: Role, sessionId: string): Promise<string> {
    const payload: Payload = { sub: userId, role, sid: sessionId };
    return this.jwt.signAsync(payload, { jwtid: randomUUID(), expiresIn: this.options.jwt.accessTtl });
  }

  /** The token's claims; `E_AUTH_UNAUTHENTICATED` for anything malformed, expired or wrongly signed. */
  async verify(token: string): Promise<AuthenticatedUser> {
    let claims: Record<string, unknown>;
    try {
      claims = await this.jwt.verifyAsync<Record<string, unknown>>(token, {
        algorithms: [this.options.jwt.algorithm],
      });
    } catch {
      throw AuthError.unauthenticated();
    }
    const { sub, role, sid, jti, exp } = claims;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      !ROLES.includes(role as Role)
    ) {
      throw AuthError.unauthenticated();
    }
    return { id: sub, role: role as Role, sid, jti, exp };
  }
}
