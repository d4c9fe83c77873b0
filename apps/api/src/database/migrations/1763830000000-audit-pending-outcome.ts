import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An admin action's audit entry is written before the action runs, as
 * `pending`, and given its outcome after: an action whose entry cannot be
 * written is not run at all, and one whose outcome cannot be written (the
 * database failed after the action) stays in the log as `pending`.
 */
export class AuditPendingOutcome1763830000000 implements MigrationInterface {
  name = 'AuditPendingOutcome1763830000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "cache_audit" DROP CONSTRAINT IF EXISTS "cache_audit_outcome_check"`);
    await queryRunner.query(
      `ALTER TABLE "cache_audit" ADD CONSTRAINT "cache_audit_outcome_check" ` +
        `CHECK ("outcome" IN ('pending', 'ok', 'not_found', 'error'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "cache_audit" SET "outcome" = 'error' WHERE "outcome" = 'pending'`);
    await queryRunner.query(`ALTER TABLE "cache_audit" DROP CONSTRAINT IF EXISTS "cache_audit_outcome_check"`);
    await queryRunner.query(
      `ALTER TABLE "cache_audit" ADD CONSTRAINT "cache_audit_outcome_check" ` +
        `CHECK ("outcome" IN ('ok', 'not_found', 'error'))`,
    );
  }
}
