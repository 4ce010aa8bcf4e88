import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Commands sent to devices and waiting for their reply (DJI `ota_create`),
 * kept so that resends survive restarts and are claimed by one instance.
 */
export class OutboundCommand1763856000000 implements MigrationInterface {
  name = 'OutboundCommand1763856000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const pg = queryRunner.connection.options.type === 'postgres';
    const ts = pg ? 'timestamptz' : 'datetime';
    const json = pg ? 'jsonb' : 'text';

    await queryRunner.query(`CREATE TABLE "outbound_command" (
      "id" varchar(36) PRIMARY KEY NOT NULL,
      "task_id" varchar(36) NOT NULL,
      "gateway_sn" varchar(256) NOT NULL,
      "method" varchar(64) NOT NULL,
      "bid" varchar(128) NOT NULL,
      "tid" varchar(128),
      "tids" ${json} NOT NULL,
      "payload" ${json} NOT NULL,
      "attempts" integer NOT NULL,
      "max_attempts" integer NOT NULL,
      "status" varchar(16) NOT NULL,
      "next_attempt_at" ${ts} NOT NULL,
      "created_at" ${ts} NOT NULL,
      "updated_at" ${ts} NOT NULL,
      CONSTRAINT "fk_outbound_command_task" FOREIGN KEY ("task_id") REFERENCES "upgrade_task" ("id") ON DELETE CASCADE)`);
    // The resend scan: status = 'PENDING' AND next_attempt_at <= now.
    await queryRunner.query(`CREATE INDEX "ix_outbound_command_due" ON "outbound_command" ("status", "next_attempt_at")`);
    // Reply correlation: the pending commands of the task a reply names by bid.
    await queryRunner.query(`CREATE INDEX "ix_outbound_command_task" ON "outbound_command" ("task_id", "status")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "outbound_command"`);
  }
}
