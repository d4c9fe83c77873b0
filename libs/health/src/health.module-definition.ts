import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { HealthModuleOptions } from './health.options';

export const { ConfigurableModuleClass: HealthConfigurableModule, MODULE_OPTIONS_TOKEN: HEALTH_OPTIONS } =
  new ConfigurableModuleBuilder<HealthModuleOptions>({ moduleName: 'Health' }).setClassMethodName('forRoot').build();
