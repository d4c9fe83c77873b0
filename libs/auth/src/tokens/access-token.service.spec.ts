import { JwtService } from '@nestjs/jwt';
import { generateKeyPairSync } from 'node:crypto';
import { AuthError } from '../auth.errors';
import type { AuthModuleOptions } from '../auth.options';
import { authProviders } from '../auth.providers';
import { AccessTokenService } from './access-token.service';

const jwtFactory = (authProviders[0] as { useFactory: (o: AuthModuleOptions) => JwtService }).useFactory;
const service = (options: AuthModuleOptions) => new AccessTokenService(jwtFactory(options), options);
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

describe(AccessTokenService.name, () => {
  it.each([
    ['RS256', pem('rsa')],
    ['ES256', pem('ec')],
  ] as const)(
    'signs and verifies with %s key pairs, with jti, sub, role, sid, iat and exp',
    async (algorithm, keys) => {
      const tokens = service({ jwt: { algorithm, ...keys, accessTtl: 60 } });
      const token = await tokens.sign('user-1', 'admin', 'session-1');
      const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
      expect(header.alg).toBe(algorithm);
      const claims = await tokens.verify(token);
      expect(claims).toMatchObject({ id: 'user-1', role: 'admin', sid: 'session-1' });
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
      expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(50);
    },
  );

  it('refuses an HS256 token forged with the RS256 public key as the HMAC secret (algorithm confusion)', async () => {
    const keys = pem('rsa');
    const rs = service({ jwt: { algorithm: 'RS256', ...keys } });
    const forged = await new JwtService({ secret: keys.publicKey }).signAsync(
      { sub: 'x', role: 'admin', sid: 's' },
      { algorithm: 'HS256', jwtid: 'j', expiresIn: 60 },
    );
    await expect(rs.verify(forged)).rejects.toBeInstanceOf(AuthError);
  });

  it('refuses a token signed with another secret, and one with an unknown role', async () => {
    const ours = service({ jwt: { secret: 'a'.repeat(32) } });
    const theirs = service({ jwt: { secret: 'b'.repeat(32) } });
    await expect(ours.verify(await theirs.sign('u', 'user', 's'))).rejects.toMatchObject({
      code: 'E_AUTH_UNAUTHENTICATED',
    });
    const odd = await new JwtService({ secret: 'a'.repeat(32) }).signAsync(
      { sub: 'u', role: 'root', sid: 's' },
      { jwtid: 'j', expiresIn: 60 },
    );
    await expect(ours.verify(odd)).rejects.toMatchObject({ code: 'E_AUTH_UNAUTHENTICATED' });
  });
});
