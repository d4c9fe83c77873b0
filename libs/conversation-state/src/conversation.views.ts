import type { ChatRole } from '@app/ai';
import type { ConversationEntity } from './entities/conversation.entity';
import type { MessageEntity, MessageStatus } from './entities/message.entity';

/** A conversation as the API shows it (dates as ISO strings, so a cached copy reads the same as a fresh one). */
export interface ConversationView {
  id: string;
  boardroomId: string;
  createdBy: string | null;
  title: string;
  model: string;
  systemPrompt: string | null;
  context: Record<string, unknown>;
  version: number;
  lastSeq: number;
  createdAt: string;
  updatedAt: string;
  lastActiveAt: string;
}

/** What never changes in a conversation: enough to check access and to ask the model. */
export type ConversationHeader = Pick<ConversationView, 'id' | 'boardroomId' | 'createdBy' | 'model' | 'systemPrompt'>;

/** One message as the API shows it. */
export interface MessageView {
  id: string;
  seq: number;
  role: ChatRole;
  content: string;
  status: MessageStatus;
  authorId: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cached: boolean;
  createdAt: string;
}

/** The hot state: the conversation and its most recent messages (within the configured budget), oldest first. */
export interface ConversationState extends ConversationView {
  messages: MessageView[];
}

export function toConversationView(row: ConversationEntity): ConversationView {
  return {
    id: row.id,
    boardroomId: row.boardroomId,
    createdBy: row.createdBy,
    title: row.title,
    model: row.model,
    systemPrompt: row.systemPrompt,
    context: row.context ?? {},
    version: row.version,
    lastSeq: row.lastSeq,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    lastActiveAt: new Date(row.lastActiveAt).toISOString(),
  };
}

export function toMessageView(row: MessageEntity): MessageView {
  return {
    id: row.id,
    seq: row.seq,
    role: row.role,
    content: row.content,
    status: row.status,
    authorId: row.authorId,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    cached: row.cached,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
