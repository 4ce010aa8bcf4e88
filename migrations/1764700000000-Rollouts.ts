import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Firmware packages and rollouts: `firmware_package`, `rollout` (with its
 * counts per target status), `rollout_package` and `rollout_target`.
 */
export class Rollouts1764700000000 implements MigrationInterface {
  name = 'Rollouts1764700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const serial = pg ? 'SERIAL PRIMARY KEY' : 'integer PRIMARY KEY AUTOINCREMENT NOT NULL';
    const ts = pg ? 'timestamptz' : 'datetime';
    const json = pg ? 'jsonb' : 'text';

    await queryRunner.query(`CREATE TABLE "firmware_package" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "source" varchar(16) NOT NULL,
      "model" varchar(64) NOT NULL,
      "version" varchar(256) NOT NULL,
      "file_url" text,
      "md5" varchar(32),
      "file_size" bigint,
      "file_name" text,
      "firmware_upgrade_type" varchar(16),
      "file_id" varchar(256),
      "created_by" varchar(256),
      "created_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_firmware_package_model_version" ON "firmware_package" ("source", "model", "version")`);
    await queryRunner.query(`CREATE INDEX "ix_firmware_package_created" ON "firmware_package" ("created_at", "id")`);

    await queryRunner.query(`CREATE TABLE "rollout" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "name" varchar(256) NOT NULL,
      "status" varchar(16) NOT NULL,
      "pause_reason" varchar(32),
      "max_in_progress" integer NOT NULL,
      "max_failure_percentage" double precision NOT NULL,
      "min_finished_before_threshold" integer NOT NULL,
      "attempts_per_device" integer NOT NULL,
      "attempt_timeout_seconds" integer NOT NULL,
      "target_spec" ${json} NOT NULL,
      "total" integer NOT NULL,
      "queued" integer NOT NULL,
      "in_progress" integer NOT NULL,
      "succeeded" integer NOT NULL,
      "failed" integer NOT NULL,
      "skipped" integer NOT NULL,
      "canceled" integer NOT NULL,
      "created_by" varchar(256),
      "created_at" ${ts} NOT NULL,
      "start_at" ${ts},
      "started_at" ${ts},
      "finished_at" ${ts},
      "updated_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_created" ON "rollout" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_status" ON "rollout" ("status")`);

    await queryRunner.query(`CREATE TABLE "rollout_package" (
      "rollout_id" varchar(36) NOT NULL,
      "package_id" varchar(36) NOT NULL,
      CONSTRAINT "PK_rollout_package" PRIMARY KEY ("rollout_id", "package_id"),
      CONSTRAINT "fk_rollout_package_rollout" FOREIGN KEY ("rollout_id") REFERENCES "rollout" ("id") ON DELETE CASCADE,
      CONSTRAINT "fk_rollout_package_package" FOREIGN KEY ("package_id") REFERENCES "firmware_package" ("id") ON DELETE RESTRICT)`);

    await queryRunner.query(`CREATE TABLE "rollout_target" (
      "id" ${serial},
      "rollout_id" varchar(36) NOT NULL,
      "source" varchar(16) NOT NULL,
      "device_id" varchar(256) NOT NULL,
      "gateway_sn" varchar(256) NOT NULL,
      "model" varchar(64),
      "package_id" varchar(36),
      "status" varchar(16) NOT NULL,
      "attempts" integer NOT NULL,
      "last_error" text,
      "task_id" varchar(36),
      "sub_task_id" varchar(36),
      "not_before" ${ts} NOT NULL,
      "started_at" ${ts},
      "updated_at" ${ts} NOT NULL,
      CONSTRAINT "fk_rollout_target_rollout" FOREIGN KEY ("rollout_id") REFERENCES "rollout" ("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_rollout_target_device" ON "rollout_target" ("rollout_id", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_target_queue" ON "rollout_target" ("rollout_id", "status", "not_before", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_target_page" ON "rollout_target" ("rollout_id", "status", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_target_gateway" ON "rollout_target" ("gateway_sn", "status")`);
    await queryRunner.query(`CREATE INDEX "ix_rollout_target_sub_task" ON "rollout_target" ("sub_task_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rollout_target"`);
    await queryRunner.query(`DROP TABLE "rollout_package"`);
    await queryRunner.query(`DROP TABLE "rollout"`);
    await queryRunner.query(`DROP TABLE "firmware_package"`);
  }
}
