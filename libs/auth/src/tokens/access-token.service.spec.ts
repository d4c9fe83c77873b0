import { createSigner } from 'fast-jwt';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { AuthError } from '../auth.errors';
import { resolveAuthOptions, type AuthModuleOptions } from '../auth.options';
import { AccessTokenService } from './access-token.service';

const service = (options: AuthModuleOptions) => new AccessTokenService(resolveAuthOptions(options));
const pem = (kind: 'rsa' | 'ec') => {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const SECRET = 'a'.repeat(32);
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: randomUUID(),
  sid: randomUUID(),
  jti: randomUUID(),
  role: 'user',
  ...overrides,
});
/** A token signed with `key` by another signer: what an attacker (or another service) could produce. */
const signWith = (key: string, payload: Record<string, unknown>, algorithm: 'HS256' | 'RS256' = 'HS256') =>
  createSigner({ key, algorithm, expiresIn: 60_000 })(payload);

describe(AccessTokenService.name, () => {
  it.each([
    ['RS256', pem('rsa')],
    ['ES256', pem('ec')],
  ] as const)('signs and verifies with %s key pairs, with jti, sub, role, sid, iat and exp', (algorithm, keys) => {
    const tokens = service({ jwt: { algorithm, ...keys, accessTtl: 60 } });
    const user = randomUUID();
    const session = randomUUID();
    const token = tokens.sign(user, 'admin', session);
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header.alg).toBe(algorithm);
    const verified = tokens.verify(token);
    expect(verified).toMatchObject({ id: user, role: 'admin', sid: session });
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(verified.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(50);
  });

  it('refuses an HS256 token forged with the RS256 public key as the HMAC secret (algorithm confusion)', () => {
    const keys = pem('rsa');
    const rs = service({ jwt: { algorithm: 'RS256', ...keys } });
    const forged = signWith(keys.publicKey, claims({ role: 'admin' }));
    expect(() => rs.verify(forged)).toThrow(AuthError);
  });

  it('refuses an unsigned token (alg: none)', () => {
    const ours = service({ jwt: { secret: SECRET } });
    const body = Buffer.from(JSON.stringify({ ...claims(), exp: Math.floor(Date.now() / 1000) + 60 })).toString(
      'base64url',
    );
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${body}.`;
    expect(() => ours.verify(none)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }));
  });

  it('refuses a token signed with another secret, and one with an unknown role', () => {
    const ours = service({ jwt: { secret: SECRET } });
    const theirs = service({ jwt: { secret: 'b'.repeat(32) } });
    expect(() => ours.verify(theirs.sign(randomUUID(), 'user', randomUUID()))).toThrow(
      expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }),
    );
    expect(() => ours.verify(signWith(SECRET, claims({ role: 'root' })))).toThrow(
      expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }),
    );
  });

  it.each([
    ['a sub that is not a UUID', { sub: 'not-a-uuid' }],
    ['a sid that is not a UUID', { sid: "x' OR 1=1" }],
    ['a jti that is not a UUID', { jti: 42 }],
    ['no sid', { sid: undefined }],
    ['no jti', { jti: undefined }],
  ])('refuses a validly signed token with %s', (_what, overrides) => {
    const ours = service({ jwt: { secret: SECRET } });
    expect(() => ours.verify(signWith(SECRET, claims(overrides)))).toThrow(
      expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }),
    );
  });

  it('refuses a validly signed token without exp', () => {
    const ours = service({ jwt: { secret: SECRET } });
    const forever = createSigner({ key: SECRET })(claims());
    expect(() => ours.verify(forever)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }));
  });

  it('refuses a token that lives longer than the configured lifetime (signed before JWT_ACCESS_TTL was lowered)', () => {
    // A session's revocation lasts JWT_ACCESS_TTL from the revoke: a token of that session living
    // longer (an hour, from before a restart with 60 s) would be accepted again once it expired.
    const before = service({ jwt: { secret: SECRET, accessTtl: 3600 } });
    const after = service({ jwt: { secret: SECRET, accessTtl: 60 } });
    const long = before.sign(randomUUID(), 'admin', randomUUID());
    expect(before.verify(long).role).toBe('admin');
    expect(() => after.verify(long)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }));
    expect(after.verify(after.sign(randomUUID(), 'user', randomUUID())).role).toBe('user');
    // Raising the lifetime keeps the shorter tokens signed before it.
    expect(service({ jwt: { secret: SECRET, accessTtl: 7200 } }).verify(long).role).toBe('admin');
    const noIat = createSigner({ key: SECRET, expiresIn: 30_000, noTimestamp: true })(claims());
    expect(() => after.verify(noIat)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }));
  });

  it('never serves a cached verification past the token expiry', () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const ours = service({ jwt: { secret: SECRET, accessTtl: 30 } });
      const token = ours.sign(randomUUID(), 'user', randomUUID());
      expect(ours.verify(token).role).toBe('user');
      expect(ours.verify(token).role).toBe('user');
      jest.advanceTimersByTime(31_000);
      expect(() => ours.verify(token)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAUTHENTICATED' }));
    } finally {
      jest.useRealTimers();
    }
  });

  it('verifies a repeated token from its bounded cache, and a tampered copy still fails', () => {
    const ours = service({ jwt: { secret: SECRET, tokenCacheSize: 2 } });
    const token = ours.sign(randomUUID(), 'user', randomUUID());
    ours.verify(token);
    const [head, body] = token.split('.');
    expect(() => ours.verify(`${head}.${body}.${'A'.repeat(43)}`)).toThrow(AuthError);
    // More distinct tokens than the cache holds: each is still verified correctly.
    for (let i = 0; i < 5; i++) expect(ours.verify(ours.sign(randomUUID(), 'admin', randomUUID())).role).toBe('admin');
    expect(ours.verify(token).role).toBe('user');
  });
});
