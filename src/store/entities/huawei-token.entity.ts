import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The Huawei platform token the gateway's instances share (PostgreSQL): only
 * the most recently issued token of an app is valid, so instances use one
 * token and renew it under one lock rather than log each other out.
 */
@Entity({ name: 'huawei_token' })
export class HuaweiToken {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 256 })
  appId: string;

  @Column({ name: 'access_token', type: 'text' })
  accessToken: string;

  @Column({ name: 'refresh_token', type: 'text', nullable: true })
  refreshToken: string | null;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  /** From then on the token is renewed (before it expires). */
  @Column({ name: 'refresh_at', type: Date })
  refreshAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
