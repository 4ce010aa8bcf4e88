import { randomUUID } from 'node:crypto';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { FirmwareUpgradeType, UpgradeStatus } from '../../domain';
import { bigintTransformer } from './columns';
import type { UpgradeTask } from './upgrade-task.entity';

/** One device within an upgrade task, with its latest applied state. */
@Entity({ name: 'upgrade_sub_task' })
@Index('uq_upgrade_sub_task_device', ['taskId', 'deviceId'], { unique: true })
@Index('ix_upgrade_sub_task_open', ['status', 'lastObservedAt'])
export class UpgradeSubTask {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'task_id', type: 'varchar', length: 36 })
  taskId: string;

  @ManyToOne('UpgradeTask', 'subTasks', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'fk_upgrade_sub_task_task' })
  task?: UpgradeTask;

  /** Huawei `deviceId`, DJI device sn. */
  @Index('ix_upgrade_sub_task_device_id')
  @Column({ name: 'device_id', type: 'varchar', length: 256 })
  deviceId: string;

  /** Huawei `subOperationId`. */
  @Column({ name: 'external_id', type: 'varchar', length: 256, nullable: true })
  externalId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: UpgradeStatus;

  /** The vendor's own word for the status, as received. */
  @Column({ name: 'vendor_status', type: 'varchar', length: 256, nullable: true })
  vendorStatus: string | null;

  @Column({ name: 'sub_status', type: 'varchar', length: 256, nullable: true })
  subStatus: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  step: string | null;

  /** The percent of the current step, as reported. */
  @Column({ type: 'integer', nullable: true })
  percent: number | null;

  /**
   * The device's overall progress 0..100 across the upgrade's phases (DJI:
   * download 0–50, install 50–100); it never goes back (see
   * `nextDeviceProgress`). Its task's progress is the mean of these.
   */
  @Column({ type: 'integer', nullable: true })
  progress: number | null;

  @Column({ name: 'source_version', type: 'varchar', length: 256, nullable: true })
  sourceVersion: string | null;

  @Column({ name: 'current_version', type: 'varchar', length: 256, nullable: true })
  currentVersion: string | null;

  @Column({ name: 'target_version', type: 'varchar', length: 256, nullable: true })
  targetVersion: string | null;

  @Column({ name: 'status_desc', type: 'text', nullable: true })
  statusDesc: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode: string | null;

  /** Huawei's upgrade duration, kept as reported. */
  @Column({ name: 'upgrade_time', type: 'varchar', length: 64, nullable: true })
  upgradeTime: string | null;

  @Column({ name: 'file_name', type: 'varchar', length: 512, nullable: true })
  fileName: string | null;

  @Column({ name: 'file_url', type: 'text', nullable: true })
  fileUrl: string | null;

  @Column({ name: 'file_size', type: 'bigint', nullable: true, transformer: bigintTransformer })
  fileSize: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  md5: string | null;

  @Column({ name: 'firmware_upgrade_type', type: 'varchar', length: 16, nullable: true })
  firmwareUpgradeType: FirmwareUpgradeType | null;

  /** Time of the last observation that moved the state (ordering rule). */
  @Column({ name: 'last_occurred_at', type: Date, nullable: true })
  lastOccurredAt: Date | null;

  /** When the gateway last heard anything of this device's upgrade (stale sweeper). */
  @Column({ name: 'last_observed_at', type: Date })
  lastObservedAt: Date;

  /** True when TIMED_OUT was set by the stale sweeper, not reported. */
  @Column({ name: 'closed_by_stale_sweep', type: 'boolean', default: false })
  closedByStaleSweep: boolean;

  @Column({ name: 'created_at', type: Date, update: false })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}

/**
 * A new sub-task: PENDING, nothing reported yet, first heard of `at`. `known`
 * sets what the creator already knows (Huawei's subOperationId, the DJI package).
 */
export function newSubTask(
  taskId: string,
  deviceId: string,
  at: Date,
  known: Partial<Omit<UpgradeSubTask, 'id' | 'taskId' | 'deviceId' | 'task'>> = {},
): UpgradeSubTask {
  const fresh: Omit<UpgradeSubTask, 'task'> = {
    id: randomUUID(),
    taskId,
    deviceId,
    externalId: null,
    status: UpgradeStatus.PENDING,
    vendorStatus: null,
    subStatus: null,
    step: null,
    percent: null,
    progress: null,
    sourceVersion: null,
    currentVersion: null,
    targetVersion: null,
    statusDesc: null,
    errorCode: null,
    upgradeTime: null,
    fileName: null,
    fileUrl: null,
    fileSize: null,
    md5: null,
    firmwareUpgradeType: null,
    lastOccurredAt: null,
    lastObservedAt: at,
    closedByStaleSweep: false,
    createdAt: at,
    updatedAt: at,
  };
  return Object.assign(new UpgradeSubTask(), fresh, known);
}
