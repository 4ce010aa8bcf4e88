import type { UpgradeSource } from '../domain/status';

/**
 * What adapters tell the inventory. Like upgrade observations, they are only
 * built by adapters (src/ingest) and decided on by the recorder, which hands
 * them to the inventory inside its transaction.
 */

/** One device a gateway names in its topology. */
export interface TopologyDevice {
  readonly deviceId: string;
  /** DJI `domain-type-sub_type`. */
  readonly model: string;
}

/**
 * A DJI `update_topo` (on `sys/product/{gateway_sn}/status`): the dock itself
 * and the sub-devices behind it now. An empty list means its aircraft left
 * (powered off or unpaired).
 */
export interface TopologyObservation {
  readonly type: 'topology';
  readonly source: UpgradeSource;
  readonly gateway: TopologyDevice;
  readonly subDevices: readonly TopologyDevice[];
}

/**
 * Changed firmware properties of one device (DJI `state` on
 * `thing/product/{device_sn}/state`). Absent (undefined) means not reported.
 */
export interface DeviceStateObservation {
  readonly type: 'deviceState';
  readonly source: UpgradeSource;
  readonly deviceId: string;
  /** The dock that relayed it (the message's `gateway`), when named. */
  readonly gatewaySn: string | null;
  readonly firmwareVersion?: string;
  /** `compatible_status` 1: a consistency upgrade is needed. */
  readonly consistencyUpgradeNeeded?: boolean;
  /** `firmware_upgrade_status` 1: upgrading. */
  readonly upgrading?: boolean;
}

/** Any observation the inventory records. */
export type InventoryObservation = TopologyObservation | DeviceStateObservation;

/** True for the observations the inventory records (the recorder's branch). */
export function isInventoryObservation(observation: { readonly type: string }): observation is InventoryObservation {
  return observation.type === 'topology' || observation.type === 'deviceState';
}
