import { randomUUID } from 'node:crypto';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { UpgradeSource } from '../domain/status';
import type { DeviceFacts } from './rules';

/**
 * One device of the fleet: a DJI dock or aircraft, or a Huawei device, with
 * the firmware it runs as last reported. Written only by the recorder's
 * transaction (src/inventory/device-set.ts).
 *
 * Indexes: every DeviceFilter equality column leads an index that ends with
 * the paging order (source, device_id), so a filtered page is read in order
 * from one index, never sorted; `firmwareVersions` groups on the
 * (model, firmware_version) index.
 */
@Entity({ name: 'device' })
@Index('uq_device_source_device', ['source', 'deviceId'], { unique: true })
@Index('ix_device_gateway', ['gatewaySn', 'source', 'deviceId'])
@Index('ix_device_model_version', ['model', 'firmwareVersion', 'source', 'deviceId'])
@Index('ix_device_version', ['firmwareVersion', 'source', 'deviceId'])
@Index('ix_device_consistency', ['consistencyUpgradeNeeded', 'source', 'deviceId'])
@Index('ix_device_online', ['online', 'source', 'deviceId'])
@Index('ix_device_upgrading', ['upgrading', 'source', 'deviceId'])
export class Device implements DeviceFacts {
  /** A UUID assigned by the gateway: the GraphQL id. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  source: UpgradeSource;

  /** DJI serial number, Huawei `deviceId`. */
  @Column({ name: 'device_id', type: 'varchar', length: 256 })
  deviceId: string;

  /** The dock a DJI device hangs off (a dock names itself). */
  @Column({ name: 'gateway_sn', type: 'varchar', length: 256, nullable: true })
  gatewaySn: string | null;

  /** DJI `domain-type-sub_type`. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  model: string | null;

  @Column({ name: 'model_name', type: 'varchar', length: 128, nullable: true })
  modelName: string | null;

  @Column({ name: 'firmware_version', type: 'varchar', length: 256, nullable: true })
  firmwareVersion: string | null;

  @Column({ name: 'software_version', type: 'varchar', length: 256, nullable: true })
  softwareVersion: string | null;

  @Column({ name: 'consistency_upgrade_needed', type: 'boolean', nullable: true })
  consistencyUpgradeNeeded: boolean | null;

  @Column({ type: 'boolean' })
  upgrading: boolean;

  @Column({ type: 'boolean', nullable: true })
  online: boolean | null;

  @Column({ name: 'last_seen_at', type: Date })
  lastSeenAt: Date;

  @Column({ name: 'created_at', type: Date, update: false })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}

/** A new row for a device first heard of at `at`. */
export function newDeviceRow(facts: DeviceFacts, at: Date): Device {
  return Object.assign(new Device(), facts, { id: randomUUID(), createdAt: at, updatedAt: at });
}

/** A plain copy for subscribers, detached from later changes. */
export function deviceSnapshot(device: Device): Device {
  return Object.assign(new Device(), device);
}
