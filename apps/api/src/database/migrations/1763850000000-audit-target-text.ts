import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An audit entry's target is kept whole: an invalidation names up to 100
 * keys of 500 characters and 100 tags of 200, and cut to 500 characters its
 * entry told little of what was invalidated. `down` cuts them back.
 */
export class AuditTargetText1763850000000 implements MigrationInterface {
  name = 'AuditTargetText1763850000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "cache_audit" ALTER COLUMN "target" TYPE text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "cache_audit" ALTER COLUMN "target" TYPE varchar(500) ` +
        `USING CASE WHEN char_length("target") > 500 THEN left("target", 497) || '...' ELSE "target" END`,
    );
  }
}
