import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh sessions (durable copy), rotated refresh-secret hashes (reuse
 * detection) and revocations (the truth behind every instance's in-memory
 * set). Deleting a user deletes their sessions.
 */
export class CreateAuth1763790000000 implements MigrationInterface {
  name = 'CreateAuth1763790000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "auth_sessions" (
        "id" uuid PRIMARY KEY,
        "user_id" uuid NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
        "secret_hash" char(64) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "revoked_at" timestamptz,
        "user_agent" varchar(256),
        "ip" varchar(64)
      )`);
    await queryRunner.query(`CREATE INDEX "auth_sessions_user_idx" ON "auth_sessions" ("user_id")`);
    await queryRunner.query(`
      CREATE TABLE "auth_refresh_rotations" (
        "secret_hash" char(64) PRIMARY KEY,
        "session_id" uuid NOT NULL REFERENCES "auth_sessions" ("id") ON DELETE CASCADE,
        "rotated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "auth_refresh_rotations_session_idx" ON "auth_refresh_rotations" ("session_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "auth_revocations" (
        "id" bigserial PRIMARY KEY,
        "kind" varchar(8) NOT NULL CHECK ("kind" IN ('jti', 'sid')),
        "subject" varchar(64) NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "auth_revocations_created_idx" ON "auth_revocations" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "auth_revocations_expires_idx" ON "auth_revocations" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "auth_revocations"`);
    await queryRunner.query(`DROP TABLE "auth_refresh_rotations"`);
    await queryRunner.query(`DROP TABLE "auth_sessions"`);
  }
}
