import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import { UpgradeKind, UpgradeSource, UpgradeStatus } from '../../domain';
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

  /** Derived from the sub-tasks by the recorder on every change. */
  @Index('ix_upgrade_task_status')
  @Column({ type: 'varchar', length: 16 })
  status: UpgradeStatus;

  /** Mean percent of the sub-tasks, derived by the recorder on every change. */
  @Column({ type: 'integer', nullable: true })
  progress: number | null;

  /** The name of the API token that created the task through the API (null: reported by a platform). */
  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true })
  createdBy: string | null = null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;

  @OneToMany('UpgradeSubTask', 'task')
  subTasks?: UpgradeSubTask[];
}
