import type { Provider } from '@nestjs/common';
import { JwtService, type JwtModuleOptions } from '@nestjs/jwt';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { AUTH_OPTIONS } from './auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions } from './auth.options';
import { ResilientThrottlerStorage } from './throttle/resilient-throttler.storage';
import { throttlerOptions } from './throttle/throttler-options';

/** HS256 signs and verifies with the secret; RS256/ES256 sign with the private key and verify with the public one. */
function jwtOptions(options: AuthModuleOptions): JwtModuleOptions {
  const { jwt } = resolveAuthOptions(options);
  const keys =
    jwt.algorithm === 'HS256' ? { secret: jwt.secret } : { privateKey: jwt.privateKey, publicKey: jwt.publicKey };
  return { ...keys, signOptions: { algorithm: jwt.algorithm }, verifyOptions: { algorithms: [jwt.algorithm] } };
}

export const authProviders: Provider[] = [
  { provide: JwtService, inject: [AUTH_OPTIONS], useFactory: (o: AuthModuleOptions) => new JwtService(jwtOptions(o)) },
  {
    provide: getOptionsToken(),
    inject: [AUTH_OPTIONS],
    useFactory: (o: AuthModuleOptions) => throttlerOptions(resolveAuthOptions(o)),
  },
  { provide: getStorageToken(), useExisting: ResilientThrottlerStorage },
];
