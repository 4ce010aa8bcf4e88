import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { FirmwarePackage } from './firmware-package.entity';
import type { Rollout } from './rollout.entity';

/** The packages a rollout hands out: each target gets the one of its model. */
@Entity({ name: 'rollout_package' })
export class RolloutPackage {
  @PrimaryColumn({ name: 'rollout_id', type: 'varchar', length: 36 })
  rolloutId: string;

  @PrimaryColumn({ name: 'package_id', type: 'varchar', length: 36 })
  packageId: string;

  @ManyToOne('Rollout', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'rollout_id', foreignKeyConstraintName: 'fk_rollout_package_rollout' })
  rollout?: Rollout;

  /** A package in use by a rollout cannot be deleted. */
  @ManyToOne('FirmwarePackage', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'package_id', foreignKeyConstraintName: 'fk_rollout_package_package' })
  package?: FirmwarePackage;
}
