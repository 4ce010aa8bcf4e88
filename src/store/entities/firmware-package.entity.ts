import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FirmwareUpgradeType, UpgradeKind, UpgradeSource } from '../../domain';
import { bigintTransformer } from './columns';

/**
 * One firmware build for one device model (`registerFirmwarePackage`). A DJI
 * package carries what `ota_create` sends (URL, MD5, size, file name, upgrade
 * type); a Huawei package is named by the platform's `fileId` and may carry
 * none of those, so they are nullable here and checked per source at the edge.
 */
@Entity({ name: 'firmware_package' })
@Index('uq_firmware_package_model_version', ['source', 'model', 'version'], { unique: true })
@Index('ix_firmware_package_created', ['createdAt', 'id'])
export class FirmwarePackage {
  /** A UUID assigned by the gateway. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  source: UpgradeSource;

  /** The model key the inventory uses (DJI `domain-type-sub_type`, e.g. `3-1-0`). */
  @Column({ type: 'varchar', length: 64 })
  model: string;

  @Column({ type: 'varchar', length: 256 })
  version: string;

  @Column({ name: 'file_url', type: 'text', nullable: true })
  fileUrl: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  md5: string | null;

  @Column({ name: 'file_size', type: 'bigint', nullable: true, transformer: bigintTransformer })
  fileSize: number | null;

  @Column({ name: 'file_name', type: 'text', nullable: true })
  fileName: string | null;

  @Column({ name: 'firmware_upgrade_type', type: 'varchar', length: 16, nullable: true })
  firmwareUpgradeType: FirmwareUpgradeType | null;

  /** Huawei: the platform's version package id (`fileId`); null for DJI. */
  @Column({ name: 'file_id', type: 'varchar', length: 256, nullable: true })
  fileId: string | null;

  /** Huawei: FIRMWARE or SOFTWARE, which platform call starts it (firmwareUpgrade or softwareUpgrade); null for DJI. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  kind: UpgradeKind | null;

  /** Who registered it (the caller's identity), when known. */
  @Column({ name: 'created_by', type: 'varchar', length: 256, nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
