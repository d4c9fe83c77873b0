import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { HttpCacheModuleOptions } from './http-cache.options';

export const { ConfigurableModuleClass: HttpCacheConfigurableModule, MODULE_OPTIONS_TOKEN: HTTP_CACHE_OPTIONS } =
  new ConfigurableModuleBuilder<HttpCacheModuleOptions>({ moduleName: 'HttpCache' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
