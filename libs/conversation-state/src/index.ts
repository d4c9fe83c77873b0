export { ConversationStateModule } from './conversation-state.module';
export {
  ConversationStateService,
  type Exchange,
  type ExchangeAnswer,
  type NewConversation,
} from './conversation-state.service';
export {
  resolveConversationStateOptions,
  type ConversationStateModuleOptions,
  type ResolvedConversationStateOptions,
} from './conversation-state.options';
export { CONVERSATION_STATE_OPTIONS, conversationHeaderTag, conversationTag } from './conversation-state.constants';
export {
  ConversationNotFoundError,
  ConversationVersionConflictError,
  ExchangeAbandonedError,
} from './conversation-state.errors';
export type { ConversationHeader, ConversationState, ConversationView, MessageView } from './conversation.views';
export { ConversationEntity } from './entities/conversation.entity';
export { MessageEntity, type MessageStatus } from './entities/message.entity';
