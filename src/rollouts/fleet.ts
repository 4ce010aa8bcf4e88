import type { EntityManager } from 'typeorm';
import type { UpgradeSource } from '../domain';

/** A device as a rollout needs it from the inventory. */
export interface FleetDevice {
  readonly source: UpgradeSource;
  readonly deviceId: string;
  /** The dock an aircraft hangs off; null (or the device itself) for a dock. */
  readonly gatewaySn: string | null;
  readonly model: string | null;
  readonly firmwareVersion: string | null;
}

/**
 * Where a rollout finds its devices: the inventory (src/inventory). Both reads
 * run inside the writer unit that creates the rollout, so the targets are the
 * devices as they stood at that commit.
 */
export interface Fleet {
  /** The devices with these ids (DJI sn, Huawei deviceId), any source; unknown ids are missing from the answer. */
  byDeviceIds(tx: EntityManager, deviceIds: readonly string[]): Promise<FleetDevice[]>;
  /** Up to `limit` devices matching the inventory's `DeviceFilter`, docks before their aircraft. */
  matching(tx: EntityManager, filter: Record<string, unknown>, limit: number): Promise<FleetDevice[]>;
}
