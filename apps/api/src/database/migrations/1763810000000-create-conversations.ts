import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AI conversations and their messages. `(conversation_id, seq)` is unique:
 * appends take the conversation's row lock and hand out `last_seq + 1`, and
 * the constraint is the safety net. Deleting a boardroom deletes its
 * conversations (the cached copies expire or are dropped by the service);
 * deleting their creator keeps them (`created_by` becomes null): they belong
 * to the boardroom.
 */
export class CreateConversations1763810000000 implements MigrationInterface {
  name = 'CreateConversations1763810000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "conversations" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "boardroom_id" uuid NOT NULL REFERENCES "boardrooms" ("id") ON DELETE CASCADE,
        "created_by" uuid REFERENCES "users" ("id") ON DELETE SET NULL,
        "title" varchar(200) NOT NULL,
        "model" varchar(100) NOT NULL,
        "system_prompt" text,
        "context" jsonb NOT NULL DEFAULT '{}',
        "version" integer NOT NULL DEFAULT 1,
        "last_seq" integer NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "last_active_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "conversations_boardroom_active_idx" ON "conversations" ("boardroom_id", "last_active_at" DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "conversation_messages" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "conversation_id" uuid NOT NULL REFERENCES "conversations" ("id") ON DELETE CASCADE,
        "seq" integer NOT NULL CHECK ("seq" > 0),
        "role" varchar(16) NOT NULL CHECK ("role" IN ('system', 'user', 'assistant')),
        "content" text NOT NULL,
        "status" varchar(16) NOT NULL CHECK ("status" IN ('pending', 'complete', 'failed')),
        "author_id" uuid REFERENCES "users" ("id") ON DELETE SET NULL,
        "prompt_tokens" integer,
        "completion_tokens" integer,
        "cached" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "conversation_messages_seq_uq" UNIQUE ("conversation_id", "seq")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "conversation_messages"`);
    await queryRunner.query(`DROP TABLE "conversations"`);
  }
}
