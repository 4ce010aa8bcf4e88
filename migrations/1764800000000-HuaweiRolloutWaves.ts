import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Huawei packages in rollouts: a package's `kind` (FIRMWARE or SOFTWARE: which
 * platform call starts it), and the wave a rollout target is being sent in
 * (`wave_id`, set between claiming the target and storing the platform's task).
 */
export class HuaweiRolloutWaves1764800000000 implements MigrationInterface {
  name = 'HuaweiRolloutWaves1764800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "firmware_package" ADD COLUMN "kind" varchar(16)`);
    await queryRunner.query(`ALTER TABLE "rollout_target" ADD COLUMN "wave_id" varchar(36)`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_target_wave" ON "rollout_target" ("wave_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_rollout_target_wave"`);
    await queryRunner.query(`ALTER TABLE "rollout_target" DROP COLUMN "wave_id"`);
    await queryRunner.query(`ALTER TABLE "firmware_package" DROP COLUMN "kind"`);
  }
}
