import { Inject } from '@nestjs/common';
import { cacheToken } from './cache.constants';

/** Injects the `NamespacedCache` of `namespace` (register it with `CacheModule.forFeature([namespace])`). */
export const InjectCache = (namespace: string): ParameterDecorator => Inject(cacheToken(namespace));
