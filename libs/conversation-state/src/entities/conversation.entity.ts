import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An AI conversation in a boardroom: its settings, its context and where its messages have got to. */
@Entity({ name: 'conversations' })
export class ConversationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'boardroom_id', type: 'uuid' })
  boardroomId: string;

  /** Null once the creator's account is deleted (the conversation stays with the boardroom). */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'varchar', length: 100 })
  model: string;

  @Column({ name: 'system_prompt', type: 'text', nullable: true })
  systemPrompt: string | null;

  /** Free-form JSON the client keeps with the conversation; updated with optimistic versioning. */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  context: Record<string, unknown>;

  /** Bumped by every update of title or context (not by messages): the `version` a client must send back. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  /** The highest message `seq` handed out. */
  @Column({ name: 'last_seq', type: 'integer', default: 0 })
  lastSeq: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_active_at', type: 'timestamptz', default: () => 'now()' })
  lastActiveAt: Date;
}
