import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { jsonTransformer } from './columns';
import type { UpgradeTask } from './upgrade-task.entity';

/** Where a command sent to a device stands. */
export enum OutboundCommandStatus {
  /** Waiting for its reply: the resend scan picks it up when `nextAttemptAt` passes. */
  PENDING = 'PENDING',
  /** A reply to one of its tids arrived (or the device evidently got it: progress for its task arrived). */
  ANSWERED = 'ANSWERED',
  /** Every send went unanswered. */
  TIMED_OUT = 'TIMED_OUT',
}

/**
 * A command the gateway sends to a device and waits a reply for (DJI
 * `ota_create` on `services`, answered on `services_reply`). Stored, so that
 * a pending send survives a restart and, on a shared database, exactly one
 * instance resends it: a resend is claimed by an UPDATE conditional on the
 * `attempts` it read.
 */
@Entity({ name: 'outbound_command' })
/** The resend scan: `status = PENDING AND next_attempt_at <= now`. */
@Index('ix_outbound_command_due', ['status', 'nextAttemptAt'])
/**
 * Reply correlation (the tid lookup): a reply names its task by `bid`, and its
 * tid is matched against `tids` of that task's pending commands (one, as a rule).
 */
@Index('ix_outbound_command_task', ['taskId', 'status'])
export class OutboundCommand {
  /** A UUID assigned by the gateway. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'task_id', type: 'varchar', length: 36 })
  taskId: string;

  @ManyToOne('UpgradeTask', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'fk_outbound_command_task' })
  task?: UpgradeTask;

  /** The gateway (dock) the command goes to: `thing/product/{gatewaySn}/services`. */
  @Column({ name: 'gateway_sn', type: 'varchar', length: 256 })
  gatewaySn: string;

  /** DJI service method, e.g. `ota_create`. */
  @Column({ type: 'varchar', length: 64 })
  method: string;

  /** DJI `bid`: the same on every send (it is the task's external id). */
  @Column({ type: 'varchar', length: 128 })
  bid: string;

  /** The `tid` of the latest send; null before the first one. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  tid: string | null;

  /** Every `tid` sent so far, oldest first: a late reply to an earlier send still answers the command. */
  @Column({ type: 'text', transformer: jsonTransformer })
  tids: string[];

  /** What the command carries, to build every send from (for `ota_create`: `{ devices }`). */
  @Column({ type: 'text', transformer: jsonTransformer })
  payload: Record<string, unknown>;

  /** Sends so far. */
  @Column({ type: 'integer' })
  attempts: number;

  /** Sends in all, the first included, before the command times out. */
  @Column({ name: 'max_attempts', type: 'integer' })
  maxAttempts: number;

  @Column({ type: 'varchar', length: 16 })
  status: OutboundCommandStatus;

  /** When the latest send's reply window ends (or, before the first send, when to send). */
  @Column({ name: 'next_attempt_at', type: Date })
  nextAttemptAt: Date;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
