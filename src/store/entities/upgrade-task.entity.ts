import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import { type Tally, UpgradeKind, UpgradeSource, UpgradeStatus } from '../../domain';
import type { UpgradeSubTask } from './upgrade-sub-task.entity';

/** One upgrade as the vendor knows it: a Huawei operation or a DJI `bid`. */
@Entity({ name: 'upgrade_task' })
@Index('uq_upgrade_task_source_external', ['source', 'externalId'], { unique: true })
@Index('ix_upgrade_task_created', ['createdAt', 'id'])
export class UpgradeTask {
  /** A UUID assigned by the gateway. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  source: UpgradeSource;

  @Column({ type: 'varchar', length: 16 })
  kind: UpgradeKind;

  /** Huawei `operationId`, DJI `bid`; unique per source. */
  @Column({ name: 'external_id', type: 'varchar', length: 256 })
  externalId: string;

  @Column({ name: 'app_id', type: 'varchar', length: 256, nullable: true })
  appId: string | null;

  @Index('ix_upgrade_task_gateway')
  @Column({ name: 'gateway_sn', type: 'varchar', length: 256, nullable: true })
  gatewaySn: string | null;

  /** Derived from the sub-task counts below by the recorder on every change. */
  @Index('ix_upgrade_task_status')
  @Column({ type: 'varchar', length: 16 })
  status: UpgradeStatus;

  /** Mean progress of the sub-tasks, derived from `progressSum` by the recorder on every change. */
  @Column({ type: 'integer', nullable: true })
  progress: number | null;

  /** The name of the API token that created the task through the API (null: reported by a platform). */
  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true })
  createdBy: string | null = null;
  /*
   * The task's tally (see `Tally` in src/domain): how many of its sub-tasks are
   * in each status, and the sum of their progress shares. Kept up to date by
   * whoever writes a sub-task, in the same transaction, from the sub-task's
   * share before and after: so status and progress never need the sub-tasks read.
   */
  @Column({ name: 'pending_count', type: 'integer', default: 0 })
  pendingCount: number;

  @Column({ name: 'sent_count', type: 'integer', default: 0 })
  sentCount: number;

  @Column({ name: 'in_progress_count', type: 'integer', default: 0 })
  inProgressCount: number;

  @Column({ name: 'paused_count', type: 'integer', default: 0 })
  pausedCount: number;

  @Column({ name: 'succeeded_count', type: 'integer', default: 0 })
  succeededCount: number;

  @Column({ name: 'failed_count', type: 'integer', default: 0 })
  failedCount: number;

  @Column({ name: 'canceled_count', type: 'integer', default: 0 })
  canceledCount: number;

  @Column({ name: 'rejected_count', type: 'integer', default: 0 })
  rejectedCount: number;

  @Column({ name: 'timed_out_count', type: 'integer', default: 0 })
  timedOutCount: number;

  /** Sum of the sub-tasks' progress shares (a succeeded one counts 100). */
  @Column({ name: 'progress_sum', type: 'integer', default: 0 })
  progressSum: number;

  @Column({ name: 'created_at', type: Date, update: false })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;

  @OneToMany('UpgradeSubTask', 'task')
  subTasks?: UpgradeSubTask[];
}

/** The column (property) holding each status's count on {@link UpgradeTask}. */
export const STATUS_COUNT_PROPERTY = {
  [UpgradeStatus.PENDING]: 'pendingCount',
  [UpgradeStatus.SENT]: 'sentCount',
  [UpgradeStatus.IN_PROGRESS]: 'inProgressCount',
  [UpgradeStatus.PAUSED]: 'pausedCount',
  [UpgradeStatus.SUCCEEDED]: 'succeededCount',
  [UpgradeStatus.FAILED]: 'failedCount',
  [UpgradeStatus.CANCELED]: 'canceledCount',
  [UpgradeStatus.REJECTED]: 'rejectedCount',
  [UpgradeStatus.TIMED_OUT]: 'timedOutCount',
} as const satisfies Record<UpgradeStatus, keyof UpgradeTask>;

/** The tally a task row stores. */
export function tallyOfTask(task: UpgradeTask): Tally {
  const counts = {} as Record<UpgradeStatus, number>;
  for (const [status, property] of Object.entries(STATUS_COUNT_PROPERTY) as [UpgradeStatus, keyof UpgradeTask][]) {
    counts[status] = Number(task[property] ?? 0);
  }
  return { counts, progressSum: Number(task.progressSum ?? 0) };
}

/** Stores `tally` on a task row (its status and progress are the caller's to derive). */
export function storeTally(task: UpgradeTask, tally: Tally): void {
  for (const [status, property] of Object.entries(STATUS_COUNT_PROPERTY) as [UpgradeStatus, (typeof STATUS_COUNT_PROPERTY)[UpgradeStatus]][]) {
    task[property] = tally.counts[status];
  }
  task.progressSum = tally.progressSum;
}

