import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CONVERSATION_STATE_OPTIONS } from './conversation-state.constants';
import {
  CONVERSATION_STATE_MODULE_OPTIONS,
  ConversationStateConfigurableModule,
} from './conversation-state.module-definition';
import { resolveConversationStateOptions, type ConversationStateModuleOptions } from './conversation-state.options';
import { ConversationStateService } from './conversation-state.service';
import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';

/**
 * `ConversationStateModule.forRoot({ ttl, maxMessages, maxTokens })` (or
 * `forRootAsync`), after `CacheModule` and TypeORM: the conversation and
 * message entities and `ConversationStateService`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ConversationEntity, MessageEntity])],
  providers: [
    {
      provide: CONVERSATION_STATE_OPTIONS,
      inject: [CONVERSATION_STATE_MODULE_OPTIONS],
      useFactory: (options: ConversationStateModuleOptions) => resolveConversationStateOptions(options),
    },
    ConversationStateService,
  ],
  exports: [ConversationStateService, TypeOrmModule],
})
export class ConversationStateModule extends ConversationStateConfigurableModule {}
