import type { Provider } from '@nestjs/common';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { AUTH_REFLECTOR, AUTH_RESOLVED_OPTIONS } from './auth.constants';
import { CachedReflector } from './guards/cached-reflector';
import { AUTH_OPTIONS } from './auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions, type ResolvedAuthOptions } from './auth.options';
import { SharedThrottlerStorage } from './throttle/shared-throttler.storage';
import { throttlerOptions } from './throttle/throttler-options';

export const authProviders: Provider[] = [
  { provide: AUTH_REFLECTOR, useValue: new CachedReflector() },
  {
    provide: AUTH_RESOLVED_OPTIONS,
    inject: [AUTH_OPTIONS],
    useFactory: (o: AuthModuleOptions) => resolveAuthOptions(o),
  },
  {
    provide: getOptionsToken(),
    inject: [AUTH_RESOLVED_OPTIONS],
    useFactory: (o: ResolvedAuthOptions) => throttlerOptions(o),
  },
  { provide: getStorageToken(), useExisting: SharedThrottlerStorage },
];
