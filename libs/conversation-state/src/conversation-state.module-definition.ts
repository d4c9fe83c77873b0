import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ConversationStateModuleOptions } from './conversation-state.options';

export const {
  ConfigurableModuleClass: ConversationStateConfigurableModule,
  MODULE_OPTIONS_TOKEN: CONVERSATION_STATE_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<ConversationStateModuleOptions>({ moduleName: 'ConversationState' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
