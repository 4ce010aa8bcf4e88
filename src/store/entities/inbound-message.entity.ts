import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { UpgradeSource } from '../../domain';

/** What became of an inbound message. */
export enum InboundOutcome {
  RECORDED = 'RECORDED',
  DUPLICATE = 'DUPLICATE',
  UNHANDLED = 'UNHANDLED',
  REJECTED = 'REJECTED',
}

/**
 * The ledger: every accepted inbound push or MQTT message, raw, and what became
 * of it. The unique dedupe key is what makes "exactly once recorded" hold across
 * restarts and instances; duplicates are kept too, with a null key.
 */
@Entity({ name: 'inbound_message' })
@Index('ix_inbound_message_received', ['receivedAt'])
export class InboundMessage {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  source: UpgradeSource;

  /** Huawei `notifyType`, DJI `method`. */
  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Index('uq_inbound_message_dedupe', { unique: true })
  @Column({ name: 'dedupe_key', type: 'varchar', length: 256, nullable: true })
  dedupeKey: string | null;

  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: InboundOutcome;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'received_at', type: Date })
  receivedAt: Date;
}
