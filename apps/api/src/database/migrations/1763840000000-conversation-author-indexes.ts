import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes on the columns a user's deletion sets to null (`ON DELETE SET
 * NULL`): Postgres looks the rows up there on every user delete, and the
 * app does too, to drop the cached copies of the conversations it changes.
 * Without them both are a scan of every conversation and every message.
 */
export class ConversationAuthorIndexes1763840000000 implements MigrationInterface {
  name = 'ConversationAuthorIndexes1763840000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "conversations_created_by_idx" ON "conversations" ("created_by")`,
    );
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "conversation_messages_author_idx" ON "conversation_messages" ("author_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "conversation_messages_author_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "conversations_created_by_idx"`);
  }
}
