import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UpgradeSource } from '../../domain';
import { RolloutTargetStatus } from '../../rollouts/domain';
import type { Rollout } from './rollout.entity';

/**
 * One device of a rollout. Fixed when the rollout is created; its status
 * moves only inside writer units that change the rollout's counts too.
 */
@Entity({ name: 'rollout_target' })
@Index('uq_rollout_target_device', ['rolloutId', 'source', 'deviceId'], { unique: true })
/** The queue: queued targets of a rollout that may be sent now, in order. */
@Index('ix_rollout_target_queue', ['rolloutId', 'status', 'notBefore', 'id'])
/** Targets page in id order, optionally by status. */
@Index('ix_rollout_target_page', ['rolloutId', 'status', 'id'])
/** One ota_create per dock at a time: the docks with a target in flight. */
@Index('ix_rollout_target_gateway', ['gatewaySn', 'status'])
@Index('ix_rollout_target_sub_task', ['subTaskId'])
/** Huawei: the targets of a wave being sent (claimed, platform task not yet stored). */
@Index('ix_rollout_target_wave', ['waveId'])
export class RolloutTarget {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'rollout_id', type: 'varchar', length: 36 })
  rolloutId: string;

  @ManyToOne('Rollout', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'rollout_id', foreignKeyConstraintName: 'fk_rollout_target_rollout' })
  rollout?: Rollout;

  @Column({ type: 'varchar', length: 16 })
  source: UpgradeSource;

  /** The device as the inventory names it (DJI sn, Huawei deviceId). */
  @Column({ name: 'device_id', type: 'varchar', length: 256 })
  deviceId: string;

  /** The dock the command goes to (the device itself for a dock). */
  @Column({ name: 'gateway_sn', type: 'varchar', length: 256 })
  gatewaySn: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  model: string | null;

  /** The package for its model; null when it has none (SKIPPED). */
  @Column({ name: 'package_id', type: 'varchar', length: 36, nullable: true })
  packageId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: RolloutTargetStatus;

  /** Attempts spent: counted when sent, given back for a busy answer. */
  @Column({ type: 'integer' })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** The task and sub-task of the latest attempt. */
  @Column({ name: 'task_id', type: 'varchar', length: 36, nullable: true })
  taskId: string | null;

  @Column({ name: 'sub_task_id', type: 'varchar', length: 36, nullable: true })
  subTaskId: string | null;

  /**
   * Huawei: the wave this target is being sent in, from its claim until the
   * platform's task is stored (then null, and task and sub-task are set). An
   * IN_PROGRESS target with a wave and no sub-task is "dispatching": the
   * engine resolves it (see src/rollouts/huawei-waves.ts), never counts it as timed out.
   */
  @Column({ name: 'wave_id', type: 'varchar', length: 36, nullable: true })
  waveId: string | null;

  /** A queued target is not sent before this (after a busy answer or a spent attempt). */
  @Column({ name: 'not_before', type: Date })
  notBefore: Date;

  /** When the latest attempt was sent (its time-out counts from here). */
  @Column({ name: 'started_at', type: Date, nullable: true })
  startedAt: Date | null;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
