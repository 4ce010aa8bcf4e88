import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { RolloutPauseReason, RolloutStatus } from '../../rollouts/domain';
import { jsonTransformer } from './columns';

/**
 * A rollout: one upgrade of a fixed set of devices, sent a few at a time.
 *
 * The counts of its targets per status live here and change in the same
 * writer unit as every target that moves, so reading a rollout's counts costs
 * one row however many targets it has (never a COUNT over its targets).
 */
@Entity({ name: 'rollout' })
@Index('ix_rollout_created', ['createdAt', 'id'])
@Index('ix_rollout_status', ['status'])
export class Rollout {
  /** A UUID assigned by the gateway. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  status: RolloutStatus;

  @Column({ name: 'pause_reason', type: 'varchar', length: 32, nullable: true })
  pauseReason: RolloutPauseReason | null;

  @Column({ name: 'max_in_progress', type: 'integer' })
  maxInProgress: number;

  @Column({ name: 'max_failure_percentage', type: 'double precision' })
  maxFailurePercentage: number;

  @Column({ name: 'min_finished_before_threshold', type: 'integer' })
  minFinishedBeforeThreshold: number;

  @Column({ name: 'attempts_per_device', type: 'integer' })
  attemptsPerDevice: number;

  @Column({ name: 'attempt_timeout_seconds', type: 'integer' })
  attemptTimeoutSeconds: number;

  /** What the targets were chosen by (`{ deviceIds }` or `{ filter }`), as given: for display. */
  @Column({ name: 'target_spec', type: 'text', transformer: jsonTransformer })
  targetSpec: Record<string, unknown>;

  @Column({ type: 'integer' })
  total: number;

  @Column({ type: 'integer' })
  queued: number;

  @Column({ name: 'in_progress', type: 'integer' })
  inProgress: number;

  @Column({ type: 'integer' })
  succeeded: number;

  @Column({ type: 'integer' })
  failed: number;

  @Column({ type: 'integer' })
  skipped: number;

  @Column({ type: 'integer' })
  canceled: number;

  @Column({ name: 'created_by', type: 'varchar', length: 256, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  /** Starts by itself then (SCHEDULED until); null: waits for startRollout. */
  @Column({ name: 'start_at', type: Date, nullable: true })
  startAt: Date | null;

  @Column({ name: 'started_at', type: Date, nullable: true })
  startedAt: Date | null;

  /** Set when it is COMPLETED, or CANCELED and nothing is left in flight. */
  @Column({ name: 'finished_at', type: Date, nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
