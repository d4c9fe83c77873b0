import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheModuleOptions } from './cache.options';

export const { ConfigurableModuleClass: CacheConfigurableModule, MODULE_OPTIONS_TOKEN: CACHE_OPTIONS } =
  new ConfigurableModuleBuilder<CacheModuleOptions>({ moduleName: 'TieredCache' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
