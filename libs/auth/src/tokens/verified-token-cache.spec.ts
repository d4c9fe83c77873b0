import type { AuthenticatedUser } from './access-token.claims';
import { VerifiedTokenCache } from './verified-token-cache';

const claims = (exp: number): AuthenticatedUser => ({ id: 'u', role: 'user', sid: 's', jti: 'j', exp });

describe(VerifiedTokenCache.name, () => {
  it('serves an entry until, and not at, its token exp', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('t', claims(100));
    expect(cache.get('t', 99.9)?.exp).toBe(100);
    expect(cache.get('t', 100)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedTokenCache(3);
    for (const token of ['a', 'b', 'c', 'd']) cache.set(token, claims(1e12));
    expect(cache.size).toBe(3);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('d', 0)).toBeDefined();
  });

  it('caches nothing with a size of 0', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('t', claims(1e12));
    expect(cache.get('t', 0)).toBeUndefined();
  });
});
