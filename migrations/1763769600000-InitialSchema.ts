import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: tasks, sub-tasks, their history, shadow events and the
 * inbound ledger. One migration for both engines; the few types that differ
 * (auto-increment keys, timestamps, JSON) are picked per engine so that
 * PostgreSQL gets `timestamptz` and `jsonb`.
 */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const serial = pg ? 'SERIAL PRIMARY KEY' : 'integer PRIMARY KEY AUTOINCREMENT NOT NULL';
    const ts = pg ? 'timestamptz' : 'datetime';
    const json = pg ? 'jsonb' : 'text';
    const falseValue = pg ? 'false' : '0';

    await queryRunner.query(`CREATE TABLE "upgrade_task" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "source" varchar(16) NOT NULL,
      "kind" varchar(16) NOT NULL,
      "external_id" varchar(256) NOT NULL,
      "app_id" varchar(256),
      "gateway_sn" varchar(256),
      "status" varchar(16) NOT NULL,
      "progress" integer,
      "created_at" ${ts} NOT NULL,
      "updated_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_upgrade_task_source_external" ON "upgrade_task" ("source", "external_id")`);
    await queryRunner.query(`CREATE INDEX "ix_upgrade_task_created" ON "upgrade_task" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_upgrade_task_status" ON "upgrade_task" ("status")`);
    await queryRunner.query(`CREATE INDEX "ix_upgrade_task_gateway" ON "upgrade_task" ("gateway_sn")`);

    await queryRunner.query(`CREATE TABLE "upgrade_sub_task" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "task_id" varchar(36) NOT NULL,
      "device_id" varchar(256) NOT NULL,
      "external_id" varchar(256),
      "status" varchar(16) NOT NULL,
      "vendor_status" varchar(256),
      "sub_status" varchar(256),
      "step" varchar(64),
      "percent" integer,
      "source_version" varchar(256),
      "current_version" varchar(256),
      "target_version" varchar(256),
      "status_desc" text,
      "error_code" varchar(64),
      "upgrade_time" varchar(64),
      "file_name" varchar(512),
      "file_url" text,
      "file_size" bigint,
      "md5" varchar(32),
      "firmware_upgrade_type" varchar(16),
      "last_occurred_at" ${ts},
      "last_observed_at" ${ts} NOT NULL,
      "closed_by_stale_sweep" boolean NOT NULL DEFAULT ${falseValue},
      "created_at" ${ts} NOT NULL,
      "updated_at" ${ts} NOT NULL,
      CONSTRAINT "fk_upgrade_sub_task_task" FOREIGN KEY ("task_id") REFERENCES "upgrade_task" ("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_upgrade_sub_task_device" ON "upgrade_sub_task" ("task_id", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_upgrade_sub_task_device_id" ON "upgrade_sub_task" ("device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_upgrade_sub_task_open" ON "upgrade_sub_task" ("status", "last_observed_at")`);

    await queryRunner.query(`CREATE TABLE "progress_event" (
      "id" ${serial},
      "sub_task_id" varchar(36) NOT NULL,
      "task_id" varchar(36) NOT NULL,
      "status" varchar(16) NOT NULL,
      "reported_status" varchar(16),
      "vendor_status" varchar(256),
      "percent" integer,
      "step" varchar(64),
      "error_code" varchar(64),
      "status_desc" text,
      "applied" boolean NOT NULL,
      "ignored_reason" varchar(16),
      "occurred_at" ${ts} NOT NULL,
      "received_at" ${ts} NOT NULL,
      CONSTRAINT "fk_progress_event_sub_task" FOREIGN KEY ("sub_task_id") REFERENCES "upgrade_sub_task" ("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE INDEX "ix_progress_event_sub_task" ON "progress_event" ("sub_task_id", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_progress_event_task" ON "progress_event" ("task_id", "id")`);

    await queryRunner.query(`CREATE TABLE "shadow_event" (
      "id" ${serial},
      "device_id" varchar(256) NOT NULL,
      "service_id" varchar(256) NOT NULL,
      "properties" ${json} NOT NULL,
      "status" varchar(16) NOT NULL,
      "received_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "ix_shadow_event_device" ON "shadow_event" ("device_id", "id")`);

    await queryRunner.query(`CREATE TABLE "inbound_message" (
      "id" ${serial},
      "source" varchar(16) NOT NULL,
      "channel" varchar(64) NOT NULL,
      "dedupe_key" varchar(256),
      "payload" text NOT NULL,
      "outcome" varchar(16) NOT NULL,
      "reason" text,
      "received_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_inbound_message_dedupe" ON "inbound_message" ("dedupe_key")`);
    await queryRunner.query(`CREATE INDEX "ix_inbound_message_received" ON "inbound_message" ("received_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "inbound_message"`);
    await queryRunner.query(`DROP TABLE "shadow_event"`);
    await queryRunner.query(`DROP TABLE "progress_event"`);
    await queryRunner.query(`DROP TABLE "upgrade_sub_task"`);
    await queryRunner.query(`DROP TABLE "upgrade_task"`);
  }
}
