import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The cache admin's audit log. No foreign key to `users`: an admin's entries
 * outlive their account.
 */
export class CreateCacheAudit1763820000000 implements MigrationInterface {
  name = 'CreateCacheAudit1763820000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "cache_audit" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "actor_id" uuid NOT NULL,
        "action" varchar(40) NOT NULL,
        "target" varchar(500) NOT NULL,
        "outcome" varchar(16) NOT NULL CHECK ("outcome" IN ('ok', 'not_found', 'error')),
        "detail" varchar(500),
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "cache_audit_created_idx" ON "cache_audit" ("created_at" DESC, "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "cache_audit"`);
  }
}
