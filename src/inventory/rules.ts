/**
 * How what the platforms report changes a device: pure functions, no I/O.
 * Each takes the device as stored (or null when it is not known yet) and
 * returns the device as it should be stored next; the store writes it only
 * when it differs ({@link sameDevice}).
 *
 * Order: reports apply in the order the gateway records them, so the latest
 * word wins. A DJI `state` recorded after a sub-task SUCCEEDED thus overrides
 * the target version the success set (the device knows best what it runs),
 * and a success recorded after a `state` sets the target version until the
 * next `state`. Device clocks decide nothing here (protocols.md §5.2: dock
 * timestamps run backwards and reboot mid-upgrade).
 */
import { UpgradeKind, UpgradeSource, UpgradeStatus, isTerminal } from '../domain';
import { djiProductName } from './models';
import type { DeviceStateObservation, TopologyDevice, TopologyObservation } from './observations';

/** What the inventory knows of one device. */
export interface DeviceFacts {
  readonly source: UpgradeSource;
  readonly deviceId: string;
  /** The dock a DJI device hangs off (a dock names itself); null for Huawei. */
  readonly gatewaySn: string | null;
  readonly model: string | null;
  readonly modelName: string | null;
  readonly firmwareVersion: string | null;
  readonly softwareVersion: string | null;
  /** DJI `compatible_status`; null until reported. */
  readonly consistencyUpgradeNeeded: boolean | null;
  readonly upgrading: boolean;
  /** Null: the gateway cannot tell (Huawei devices, or nothing heard yet). */
  readonly online: boolean | null;
  readonly lastSeenAt: Date;
}

/** A device heard of for the first time: nothing known but its identity. */
export function unknownDevice(source: UpgradeSource, deviceId: string, at: Date): DeviceFacts {
  return {
    source,
    deviceId,
    gatewaySn: null,
    model: null,
    modelName: null,
    firmwareVersion: null,
    softwareVersion: null,
    consistencyUpgradeNeeded: null,
    upgrading: false,
    online: null,
    lastSeenAt: at,
  };
}

const FIELDS: readonly (keyof DeviceFacts)[] = [
  'source',
  'deviceId',
  'gatewaySn',
  'model',
  'modelName',
  'firmwareVersion',
  'softwareVersion',
  'consistencyUpgradeNeeded',
  'upgrading',
  'online',
  'lastSeenAt',
];

/** True when both describe the device alike (what decides whether to write). */
export function sameDevice(a: DeviceFacts, b: DeviceFacts): boolean {
  return FIELDS.every((field) => {
    const x = a[field];
    const y = b[field];
    return x instanceof Date && y instanceof Date ? x.getTime() === y.getTime() : x === y;
  });
}

/**
 * A copy of `device` with `changes` made. Copied, then assigned, rather than
 * `{ ...device, ...changes }`: every field of a device exists on the copy, and
 * on Node 20 assigning an existing field of a copy is cheap where adding
 * fields after a spread is not (see eslint.config.mjs). Progress messages run
 * through here.
 */
export function withChanges(device: DeviceFacts, changes: Partial<DeviceFacts>): DeviceFacts {
  return Object.assign({ ...device }, changes);
}

/** The model key with its product name. */
function modelOf(model: string): Pick<DeviceFacts, 'model' | 'modelName'> {
  return { model, modelName: djiProductName(model) };
}

/**
 * The dock announcing its topology: it is connected (it just published), it
 * is its own gateway, and its model is as it says.
 */
export function dockAnnounced(dock: DeviceFacts | null, report: TopologyObservation, at: Date): DeviceFacts {
  const base = dock ?? unknownDevice(report.source, report.gateway.deviceId, at);
  return withChanges(base, { gatewaySn: report.gateway.deviceId, online: true, lastSeenAt: at, ...modelOf(report.gateway.model) });
}

/**
 * A sub-device named in a dock's topology: it hangs off that dock now (an
 * aircraft seen under another dock before has moved) and is online.
 */
export function joinedDock(device: DeviceFacts | null, source: UpgradeSource, sub: TopologyDevice, dockSn: string, at: Date): DeviceFacts {
  const base = device ?? unknownDevice(source, sub.deviceId, at);
  return withChanges(base, { gatewaySn: dockSn, online: true, lastSeenAt: at, ...modelOf(sub.model) });
}

/**
 * A sub-device its dock no longer names (an empty `sub_devices`: powered off
 * or unpaired). It is offline; it keeps the dock it was last seen under, so
 * the dock still lists it until it turns up under another one.
 */
export function leftDock(device: DeviceFacts): DeviceFacts {
  return withChanges(device, { online: false });
}

/**
 * Which of a dock's current sub-devices (`children`, those whose gateway is
 * the dock, the dock itself excluded) a topology report no longer names.
 */
export function departed(children: readonly DeviceFacts[], report: TopologyObservation): DeviceFacts[] {
  const named = new Set(report.subDevices.map((d) => d.deviceId));
  return children.filter((c) => c.deviceId !== report.gateway.deviceId && !named.has(c.deviceId) && c.online !== false);
}

/**
 * A `state` report: the properties it carries replace what was known (the
 * others stay). A device never seen is created. The relaying dock becomes the
 * device's gateway; a dock reporting for itself is connected.
 */
export function stateReported(device: DeviceFacts | null, report: DeviceStateObservation, at: Date): DeviceFacts {
  const next: { -readonly [K in keyof DeviceFacts]: DeviceFacts[K] } = { ...(device ?? unknownDevice(report.source, report.deviceId, at)) };
  if (report.firmwareVersion !== undefined) next.firmwareVersion = report.firmwareVersion;
  if (report.consistencyUpgradeNeeded !== undefined) next.consistencyUpgradeNeeded = report.consistencyUpgradeNeeded;
  if (report.upgrading !== undefined) next.upgrading = report.upgrading;
  if (report.gatewaySn !== null) next.gatewaySn = report.gatewaySn;
  if (report.gatewaySn === report.deviceId) next.online = true;
  next.lastSeenAt = at;
  return next;
}

/** What an upgrade observation did to one sub-task, as the inventory needs it. */
export interface UpgradeOutcome {
  readonly source: UpgradeSource;
  readonly kind: UpgradeKind;
  readonly deviceId: string;
  /** The task's gateway (DJI dock), when it has one. */
  readonly gatewaySn: string | null;
  /** Whether the observation moved the sub-task (a late or stale one did not). */
  readonly applied: boolean;
  /** The sub-task's status after the observation. */
  readonly status: UpgradeStatus;
  /** The version the device ran before (Huawei `sourceVersion`). */
  readonly sourceVersion: string | null;
  /** The version it runs after a success (Huawei `curVersion`). */
  readonly currentVersion: string | null;
  /** The version the upgrade installs (the sub-task's target, Huawei `targetVersion`). */
  readonly targetVersion: string | null;
}

/**
 * An upgrade observation about a device. The device appears with its first
 * one (a Huawei device is known only through its pushes).
 *
 * - Ends SUCCEEDED: the device runs the new version at once (`curVersion`,
 *   else the target), no longer upgrades, and no longer needs a consistency
 *   upgrade (DJI: a regular upgrade also makes the modules consistent; a
 *   later `state` says otherwise if not).
 * - Ends otherwise: no longer upgrading; it runs `curVersion`, else
 *   `sourceVersion`, where the push names them.
 * - Under way (SENT, IN_PROGRESS, PAUSED): upgrading; `sourceVersion` is what
 *   it runs until it ends.
 *
 * Firmware and software versions are kept apart by the task's kind. An
 * observation that did not apply (older than the state, or after the end)
 * changes only `lastSeenAt`.
 */
export function upgradeObserved(device: DeviceFacts | null, outcome: UpgradeOutcome, at: Date): DeviceFacts {
  const base = device ?? unknownDevice(outcome.source, outcome.deviceId, at);
  const next: { -readonly [K in keyof DeviceFacts]: DeviceFacts[K] } = withChanges(base, { lastSeenAt: at });
  if (next.gatewaySn === null && outcome.gatewaySn !== null && outcome.source === UpgradeSource.DJI) next.gatewaySn = outcome.gatewaySn;
  if (!outcome.applied) return next;
  const versionField = outcome.kind === UpgradeKind.SOFTWARE ? 'softwareVersion' : 'firmwareVersion';
  if (outcome.status === UpgradeStatus.SUCCEEDED) {
    const version = outcome.currentVersion ?? outcome.targetVersion;
    if (version !== null) next[versionField] = version;
    next.upgrading = false;
    if (outcome.kind === UpgradeKind.FIRMWARE && next.consistencyUpgradeNeeded === true) next.consistencyUpgradeNeeded = false;
    return next;
  }
  // What it runs now: Huawei names `curVersion` in a failed result, `sourceVersion` (the version before) otherwise.
  const running = outcome.currentVersion ?? outcome.sourceVersion;
  if (running !== null) next[versionField] = running;
  if (isTerminal(outcome.status)) next.upgrading = false;
  else if (outcome.status !== UpgradeStatus.PENDING) next.upgrading = true;
  return next;
}

/**
 * A dock's MQTT connection went up or down (the embedded broker sees it).
 * Returns the dock and its sub-devices as they should be: a dock that is gone
 * takes its aircraft offline with it (the gateway hears of an aircraft only
 * through its dock); a dock that is back brings nobody back, its next topology
 * says who is there.
 */
export function presenceChanged(dock: DeviceFacts, children: readonly DeviceFacts[], online: boolean, at: Date): DeviceFacts[] {
  const out: DeviceFacts[] = [withChanges(dock, { online, lastSeenAt: online ? at : dock.lastSeenAt })];
  if (!online) for (const child of children) if (child.deviceId !== dock.deviceId && child.online !== false) out.push(withChanges(child, { online: false }));
  return out;
}
