import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ChatRole } from '@app/ai';

/**
 * A message's life: both messages of an exchange are `pending` while the
 * provider answers (the user message stored, the answer's place reserved),
 * then `complete` together; when the provider fails, both become `failed`
 * (kept, so `seq` stays contiguous). Only `complete` messages are shown to
 * the model, so an exchange cut short by a crash never enters a prompt.
 */
export type MessageStatus = 'pending' | 'complete' | 'failed';

/** One message of a conversation, at its place `seq` (unique per conversation, contiguous from 1). */
@Entity({ name: 'conversation_messages' })
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ type: 'integer' })
  seq: number;

  @Column({ type: 'varchar', length: 16 })
  role: ChatRole;

  @Column({ type: 'text' })
  content: string;

  @Column({ type: 'varchar', length: 16 })
  status: MessageStatus;

  /** Who posted it (user messages). */
  @Column({ name: 'author_id', type: 'uuid', nullable: true })
  authorId: string | null;

  @Column({ name: 'prompt_tokens', type: 'integer', nullable: true })
  promptTokens: number | null;

  @Column({ name: 'completion_tokens', type: 'integer', nullable: true })
  completionTokens: number | null;

  /** The answer came from the completion cache (no provider call). */
  @Column({ type: 'boolean', default: false })
  cached: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
