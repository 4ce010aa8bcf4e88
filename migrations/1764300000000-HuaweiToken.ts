import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The Huawei platform token shared by the gateway's instances (see HuaweiToken). */
export class HuaweiToken1764300000000 implements MigrationInterface {
  name = 'HuaweiToken1764300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.query(`CREATE TABLE "huawei_token" (
      "app_id" varchar(256) PRIMARY KEY NOT NULL,
      "access_token" text NOT NULL,
      "refresh_token" text,
      "expires_at" ${ts} NOT NULL,
      "refresh_at" ${ts} NOT NULL,
      "updated_at" ${ts} NOT NULL)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "huawei_token"`);
  }
}
