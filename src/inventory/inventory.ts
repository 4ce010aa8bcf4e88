import type { EntityManager } from 'typeorm';
import { type UpgradeObservation, UpgradeSource } from '../domain';
import type { UpgradeSubTask, UpgradeTask } from '../store/entities';
import { type Device, deviceSnapshot } from './device.entity';
import { DeviceSet } from './device-set';
import type { DeviceStateObservation, InventoryObservation, TopologyObservation } from './observations';
import {
  type DeviceFacts,
  departed,
  dockAnnounced,
  joinedDock,
  leftDock,
  presenceChanged,
  stateReported,
  unknownDevice,
  upgradeObserved,
  withChanges,
} from './rules';

/** Publishes a committed device change (`deviceChanged`). */
export type DevicePublisher = (device: Device) => void;

/**
 * The inventory's side of the recorder's transaction: it applies the pure
 * rules (./rules) to the devices an observation names and stores the result
 * through the batch's {@link DeviceSet}. Every write is O(1) in the fleet
 * size: devices are read by their unique key, a dock's children through the
 * gateway index.
 *
 * Units of the writer run one at a time, so the devices changed by upgrade
 * observations are collected here per unit ({@link beginUnit} /
 * {@link takeChanged}) and published by the recorder after the commit.
 */
export class Inventory {
  private pending: Device[] = [];

  constructor(private readonly publisher: DevicePublisher) {}

  /** Starts a unit: forgets what a unit that failed may have left. */
  beginUnit(): void {
    this.pending = [];
  }

  /** The devices changed by upgrade observations in this unit, for publishing after commit. */
  takeChanged(): Device[] {
    const devices = this.pending;
    this.pending = [];
    return devices;
  }

  /** Publishes committed device changes. */
  publish(devices: readonly Device[]): void {
    for (const device of devices) this.publisher(device);
  }

  /** Records a topology or state observation; returns the devices changed (snapshots). */
  record(tx: EntityManager, observation: InventoryObservation, at: Date): Promise<Device[]> {
    return observation.type === 'topology' ? this.recordTopology(tx, observation, at) : this.recordState(tx, observation, at);
  }

  /**
   * After the recorder applied an upgrade observation to a sub-task: the
   * device appears if new, and its version follows a success (see
   * {@link upgradeObserved}).
   */
  async upgradeObserved(tx: EntityManager, task: UpgradeTask, subTask: UpgradeSubTask, observation: UpgradeObservation, applied: boolean, at: Date): Promise<void> {
    const set = DeviceSet.of(tx);
    const current = await set.get(tx, task.source, subTask.deviceId);
    const next = upgradeObserved(
      current,
      {
        source: task.source,
        kind: task.kind,
        deviceId: subTask.deviceId,
        gatewaySn: task.gatewaySn,
        applied,
        status: subTask.status,
        sourceVersion: observation.sourceVersion ?? null,
        currentVersion: observation.currentVersion ?? null,
        targetVersion: subTask.targetVersion ?? observation.targetVersion ?? null,
      },
      at,
    );
    await this.store(tx, set, current, next, at, this.pending);
  }

  /** A push that names a device and says nothing of its firmware: it exists, and was just heard of. */
  async deviceSeen(tx: EntityManager, source: UpgradeSource, deviceId: string, at: Date): Promise<Device[]> {
    const set = DeviceSet.of(tx);
    const current = await set.get(tx, source, deviceId);
    const changed: Device[] = [];
    await this.store(tx, set, current, withChanges(current ?? unknownDevice(source, deviceId, at), { lastSeenAt: at }), at, changed);
    return changed;
  }

  private async recordTopology(tx: EntityManager, report: TopologyObservation, at: Date): Promise<Device[]> {
    const set = DeviceSet.of(tx);
    const changed: Device[] = [];
    const dockSn = report.gateway.deviceId;
    const children = await set.childrenOf(tx, report.source, dockSn);
    const dock = children.find((d) => d.deviceId === dockSn) ?? (await set.get(tx, report.source, dockSn));
    await this.store(tx, set, dock, dockAnnounced(dock, report, at), at, changed);
    const subs = await set.getMany(
      tx,
      report.source,
      report.subDevices.map((d) => d.deviceId),
    );
    for (const sub of report.subDevices) {
      const current = subs.get(sub.deviceId) ?? null;
      await this.store(tx, set, current, joinedDock(current, report.source, sub, dockSn, at), at, changed);
    }
    for (const gone of departed(children, report)) await this.store(tx, set, gone as Device, leftDock(gone), at, changed);
    return changed;
  }

  private async recordState(tx: EntityManager, report: DeviceStateObservation, at: Date): Promise<Device[]> {
    const set = DeviceSet.of(tx);
    const changed: Device[] = [];
    const current = await set.get(tx, report.source, report.deviceId);
    await this.store(tx, set, current, stateReported(current, report, at), at, changed);
    return changed;
  }

  /**
   * A DJI dock's MQTT connection went up or down: the dock (and, when it goes,
   * its aircraft) change. A client id that names no known dock changes
   * nothing (the gateway's own client, or a dock whose topology has not come
   * yet: that topology marks it online).
   */
  async presence(tx: EntityManager, clientId: string, online: boolean, at: Date): Promise<Device[]> {
    const set = DeviceSet.of(tx);
    const dock = await set.get(tx, UpgradeSource.DJI, clientId);
    if (dock === null || dock.gatewaySn !== dock.deviceId) return [];
    const children = online ? [] : await set.childrenOf(tx, UpgradeSource.DJI, clientId);
    const changed: Device[] = [];
    for (const next of presenceChanged(dock, children, online, at)) {
      const current = next.deviceId === dock.deviceId ? dock : children.find((c) => c.deviceId === next.deviceId)!;
      await this.store(tx, set, current, next, at, changed);
    }
    return changed;
  }

  /** Writes `next` when it differs and notes a snapshot of it in `changed` when subscribers should hear of it. */
  private async store(tx: EntityManager, set: DeviceSet, current: Device | null, next: DeviceFacts, at: Date, changed: Device[]): Promise<void> {
    const before = current === null ? null : { ...current };
    const row = await set.put(tx, current, next, at);
    if (row === null) return;
    // lastSeenAt alone moves with every message: not worth a message to every subscriber.
    if (before !== null && onlyLastSeenChanged(before, row)) return;
    changed.push(deviceSnapshot(row));
  }
}

function onlyLastSeenChanged(before: DeviceFacts, after: DeviceFacts): boolean {
  return (
    before.gatewaySn === after.gatewaySn &&
    before.model === after.model &&
    before.firmwareVersion === after.firmwareVersion &&
    before.softwareVersion === after.softwareVersion &&
    before.consistencyUpgradeNeeded === after.consistencyUpgradeNeeded &&
    before.upgrading === after.upgrading &&
    before.online === after.online
  );
}
