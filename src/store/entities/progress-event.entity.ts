import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UpgradeStatus } from '../../domain';
import type { UpgradeSubTask } from './upgrade-sub-task.entity';

/**
 * One observation of one sub-task, whether or not it moved the state: the
 * history. Ids grow with commit order, which is what resumable subscriptions
 * (`after: <id>`) rely on.
 */
@Entity({ name: 'progress_event' })
@Index('ix_progress_event_sub_task', ['subTaskId', 'id'])
@Index('ix_progress_event_task', ['taskId', 'id'])
export class ProgressEvent {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'sub_task_id', type: 'varchar', length: 36 })
  subTaskId: string;

  @ManyToOne('UpgradeSubTask', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'sub_task_id', foreignKeyConstraintName: 'fk_progress_event_sub_task' })
  subTask?: UpgradeSubTask;

  /** Denormalised from the sub-task so that history and replays filter without a join. */
  @Column({ name: 'task_id', type: 'varchar', length: 36 })
  taskId: string;

  /** The status the sub-task had after this observation. */
  @Column({ type: 'varchar', length: 16 })
  status: UpgradeStatus;

  /** The status the observation itself reported, null when it reported none. */
  @Column({ name: 'reported_status', type: 'varchar', length: 16, nullable: true })
  reportedStatus: UpgradeStatus | null;

  @Column({ name: 'vendor_status', type: 'varchar', length: 256, nullable: true })
  vendorStatus: string | null;

  @Column({ type: 'integer', nullable: true })
  percent: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  step: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  @Column({ name: 'status_desc', type: 'text', nullable: true })
  statusDesc: string | null;

  /** Whether this observation moved the state; when not, `ignoredReason` says why. */
  @Column({ type: 'boolean' })
  applied: boolean;

  @Column({ name: 'ignored_reason', type: 'varchar', length: 16, nullable: true })
  ignoredReason: string | null;

  @Column({ name: 'occurred_at', type: Date })
  occurredAt: Date;

  @Column({ name: 'received_at', type: Date })
  receivedAt: Date;
}
