import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The MQTT sessions of the running instances (PostgreSQL deployments with a
 * shared group): each instance lists its broker and client id while it runs and holds an
 * advisory lock named after it, so that when one dies the others find its
 * session and drain it (see src/mqtt/session-registry.ts).
 */
export class MqttSession1764600000000 implements MigrationInterface {
  name = 'MqttSession1764600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.query(`CREATE TABLE "mqtt_session" (
      "broker" varchar(512) NOT NULL,
      "client_id" varchar(64) NOT NULL,
      "shared_group" varchar(256) NOT NULL,
      "registered_at" ${ts} NOT NULL,
      PRIMARY KEY ("broker", "client_id"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mqtt_session"`);
  }
}
