import type { AuthenticatedUser } from './access-token.claims';

/**
 * Access tokens whose signature and claims were verified, so a repeated
 * token costs one `Map` lookup instead of an HMAC or RSA check. The token
 * itself is the key (no collisions; fast-jwt's own cache hashes every token
 * with SHA-256, which was the largest single cost of an authenticated
 * request here). Holding tokens in memory until their `exp` adds nothing for
 * someone who can read this process's memory: the signing secret is there too.
 *
 * Bounded: past `maxEntries` the oldest entry goes (first in, first out; an
 * access token lives minutes, so recency matters little). An entry is never
 * served at or after its token's `exp`. Revocation is not cached here: the
 * guard checks it on every request.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, AuthenticatedUser>();

  constructor(private readonly maxEntries: number) {}

  /** The verified claims of `token`, unless unknown or expired (an expired entry is dropped). */
  get(token: string, nowSeconds: number): AuthenticatedUser | undefined {
    const claims = this.entries.get(token);
    if (claims === undefined) return undefined;
    if (claims.exp <= nowSeconds) {
      this.entries.delete(token);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: AuthenticatedUser): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, claims);
  }

  get size(): number {
    return this.entries.size;
  }
}
