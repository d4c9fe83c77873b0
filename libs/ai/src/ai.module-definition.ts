import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AiModuleOptions } from './ai.options';

export const { ConfigurableModuleClass: AiConfigurableModule, MODULE_OPTIONS_TOKEN: AI_OPTIONS } =
  new ConfigurableModuleBuilder<AiModuleOptions>({ moduleName: 'Ai' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
