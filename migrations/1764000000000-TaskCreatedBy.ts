import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who created a task through the API: the name of the API token (API_TOKENS), null for tasks a platform reported. */
export class TaskCreatedBy1764000000000 implements MigrationInterface {
  name = 'TaskCreatedBy1764000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "upgrade_task" ADD COLUMN "created_by" varchar(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "upgrade_task" DROP COLUMN "created_by"`);
  }
}
