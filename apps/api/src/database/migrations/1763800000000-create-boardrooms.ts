import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Boardrooms and their members. The foreign keys cascade as a safety net
 * only: the services delete members and boardrooms through TypeORM first, so
 * the query cache's subscriber sees every row that goes.
 */
export class CreateBoardrooms1763800000000 implements MigrationInterface {
  name = 'CreateBoardrooms1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "boardrooms" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "name" varchar(100) NOT NULL,
        "description" varchar(2000),
        "owner_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "boardroom_members" (
        "boardroom_id" uuid NOT NULL REFERENCES "boardrooms" ("id") ON DELETE CASCADE,
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "role" varchar(16) NOT NULL CHECK ("role" IN ('owner', 'member')),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("boardroom_id", "user_id")
      )`);
    await queryRunner.query(`CREATE INDEX "boardroom_members_user_idx" ON "boardroom_members" ("user_id")`);
    await queryRunner.query(`CREATE INDEX "users_created_idx" ON "users" ("created_at", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "users_created_idx"`);
    await queryRunner.query(`DROP TABLE "boardroom_members"`);
    await queryRunner.query(`DROP TABLE "boardrooms"`);
  }
}
