import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fleet inventory: one row per device (src/inventory/device.entity.ts).
 * Each filter column leads an index ending in the paging order
 * (source, device_id), so filtered pages come out of one index in order.
 */
export class DeviceInventory1764200000000 implements MigrationInterface {
  name = 'DeviceInventory1764200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const ts = pg ? 'timestamptz' : 'datetime';
    await queryRunner.query(`CREATE TABLE "device" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "source" varchar(16) NOT NULL,
      "device_id" varchar(256) NOT NULL,
      "gateway_sn" varchar(256),
      "model" varchar(64),
      "model_name" varchar(128),
      "firmware_version" varchar(256),
      "software_version" varchar(256),
      "consistency_upgrade_needed" boolean,
      "upgrading" boolean NOT NULL,
      "online" boolean,
      "last_seen_at" ${ts} NOT NULL,
      "created_at" ${ts} NOT NULL,
      "updated_at" ${ts} NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_device_source_device" ON "device" ("source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_gateway" ON "device" ("gateway_sn", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_model_version" ON "device" ("model", "firmware_version", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_version" ON "device" ("firmware_version", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_consistency" ON "device" ("consistency_upgrade_needed", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_online" ON "device" ("online", "source", "device_id")`);
    await queryRunner.query(`CREATE INDEX "ix_device_upgrading" ON "device" ("upgrading", "source", "device_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "device"`);
  }
}
