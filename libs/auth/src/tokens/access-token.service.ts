import { Inject, Injectable } from '@nestjs/common';
import { createSigner, createVerifier } from 'fast-jwt';
import { randomUUID } from 'node:crypto';
import { AUTH_RESOLVED_OPTIONS, ROLES, type Role } from '../auth.constants';
import { AuthError } from '../auth.errors';
import type { ResolvedAuthOptions } from '../auth.options';
import type { AuthenticatedUser } from './access-token.claims';
import { VerifiedTokenCache } from './verified-token-cache';

/** The claims we put in a token besides the registered ones (`jti`, `iat`, `exp`). */
interface Payload {
  sub: string;
  role: Role;
  sid: string;
}

/** Ids we mint are UUIDs; a validly signed token with anything else in `sub`, `sid` or `jti` is refused. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Verify = (token: string) => Record<string, unknown>;

/**
 * Signs and verifies access JWTs with `fast-jwt`. The keys are parsed once
 * (`KeyObject`s), the algorithm is pinned (`alg: none` and HS/RS confusion
 * are refused), and `exp` and `iat` are required and checked: a token may
 * live no longer than `accessTtl`, since that is how long a session's
 * revocation lasts.
 *
 * Verified tokens are kept in a bounded cache (`tokenCacheSize`) for no
 * longer than their own `exp`, so a repeated token costs a `Map` lookup
 * instead of a signature check. The cache holds signature and claim results
 * only: the guard checks revocation on every request, cached or not.
 */
@Injectable()
export class AccessTokenService {
  private readonly signer: (payload: Payload & { jti: string }) => string;
  private readonly verifier: Verify;
  private readonly verified: VerifiedTokenCache;

  constructor(@Inject(AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedAuthOptions) {
    const { jwt } = options;
    const [signKey, verifyKey] = keys(options);
    this.signer = createSigner<Payload>({ key: signKey, algorithm: jwt.algorithm, expiresIn: jwt.accessTtl * 1000 });
    // fast-jwt's own cache is off: `VerifiedTokenCache` keys by the token
    // itself, where fast-jwt would hash every token (or warn at every boot
    // about a custom key builder).
    this.verifier = createVerifier({
      key: verifyKey,
      algorithms: [jwt.algorithm],
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
    }) as Verify;
    this.verified = new VerifiedTokenCache(jwt.tokenCacheSize);
  }

  get ttlSeconds(): number {
    return this.options.jwt.accessTtl;
  }

  sign(userId: string, role: Role, sessionId: string): string {
    return this.signer({ sub: userId, role, sid: sessionId, jti: randomUUID() });
  }

  /** The token's claims; `E_AUTH_UNAUTHENTICATED` for anything malformed, expired or wrongly signed. */
  verify(token: string): AuthenticatedUser {
    const known = this.verified.get(token, Date.now() / 1000);
    if (known) return known;
    const user = this.verifyUncached(token);
    this.verified.set(token, user);
    return user;
  }

  private verifyUncached(token: string): AuthenticatedUser {
    let claims: Record<string, unknown>;
    try {
      claims = this.verifier(token);
    } catch {
      throw AuthError.unauthenticated();
    }
    const { sub, role, sid, jti, iat, exp } = claims;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      // A lifetime past the configured one (a token signed before JWT_ACCESS_TTL was lowered) would
      // outlive its session's revocation, which lasts JWT_ACCESS_TTL (and a margin) from the revoke.
      exp - iat > this.options.jwt.accessTtl ||
      !UUID.test(sub) ||
      !UUID.test(sid) ||
      !UUID.test(jti) ||
      !ROLES.includes(role as Role)
    ) {
      throw AuthError.unauthenticated();
    }
    // Frozen: the cache hands this one object to every request with the token.
    return Object.freeze({ id: sub, role: role as Role, sid, jti, exp });
  }
}

/**
 * [signing key, verification key]. fast-jwt parses them into `KeyObject`s
 * once, when the signer and verifier are created (building a key per call
 * was a third of the CPU of an authenticated request).
 */
function keys({ jwt }: ResolvedAuthOptions): [string, string] {
  if (jwt.algorithm === 'HS256') return [jwt.secret ?? '', jwt.secret ?? ''];
  return [jwt.privateKey ?? '', jwt.publicKey ?? ''];
}
