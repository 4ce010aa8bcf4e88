import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Status columns of the tally, with the status each counts. */
const COUNT_COLUMNS: readonly (readonly [column: string, status: string])[] = [
  ['pending_count', 'PENDING'],
  ['sent_count', 'SENT'],
  ['in_progress_count', 'IN_PROGRESS'],
  ['paused_count', 'PAUSED'],
  ['succeeded_count', 'SUCCEEDED'],
  ['failed_count', 'FAILED'],
  ['canceled_count', 'CANCELED'],
  ['rejected_count', 'REJECTED'],
  ['timed_out_count', 'TIMED_OUT'],
];

/**
 * Each task keeps its tally (per-status counts of its sub-tasks and the sum of
 * their progress shares), so that the recorder updates it from the one
 * sub-task an observation changes instead of reading all of them; each
 * sub-task keeps its overall, never-decreasing progress across phases.
 * Existing rows are counted once here. Same SQL on SQLite and PostgreSQL.
 */
export class TaskTally1764100000000 implements MigrationInterface {
  name = 'TaskTally1764100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "upgrade_sub_task" ADD COLUMN "progress" integer`);
    // Phase weights as in src/domain/tally.ts (PHASE_SPANS).
    await queryRunner.query(`UPDATE "upgrade_sub_task" SET "progress" = CASE
      WHEN "status" = 'SUCCEEDED' THEN 100
      WHEN "percent" IS NULL THEN NULL
      WHEN "step" = 'download_firmware' THEN CAST(ROUND("percent" * 0.5) AS integer)
      WHEN "step" = 'upgrade_firmware' THEN CAST(ROUND(50 + "percent" * 0.5) AS integer)
      ELSE "percent" END`);
    for (const [column] of COUNT_COLUMNS) {
      await queryRunner.query(`ALTER TABLE "upgrade_task" ADD COLUMN "${column}" integer NOT NULL DEFAULT 0`);
    }
    await queryRunner.query(`ALTER TABLE "upgrade_task" ADD COLUMN "progress_sum" integer NOT NULL DEFAULT 0`);
    const counts = COUNT_COLUMNS.map(
      ([column, status]) =>
        `"${column}" = (SELECT COUNT(*) FROM "upgrade_sub_task" s WHERE s."task_id" = "upgrade_task"."id" AND s."status" = '${status}')`,
    );
    await queryRunner.query(`UPDATE "upgrade_task" SET ${counts.join(', ')},
      "progress_sum" = (SELECT COALESCE(SUM(CASE WHEN s."status" = 'SUCCEEDED' THEN 100 ELSE COALESCE(s."progress", 0) END), 0)
        FROM "upgrade_sub_task" s WHERE s."task_id" = "upgrade_task"."id")`);
    const total = COUNT_COLUMNS.map(([column]) => `"${column}"`).join(' + ');
    await queryRunner.query(`UPDATE "upgrade_task" SET "progress" = CASE WHEN ${total} = 0 THEN NULL
      ELSE CAST(ROUND("progress_sum" * 1.0 / (${total})) AS integer) END`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [column] of COUNT_COLUMNS) await queryRunner.query(`ALTER TABLE "upgrade_task" DROP COLUMN "${column}"`);
    await queryRunner.query(`ALTER TABLE "upgrade_task" DROP COLUMN "progress_sum"`);
    await queryRunner.query(`ALTER TABLE "upgrade_sub_task" DROP COLUMN "progress"`);
  }
}
