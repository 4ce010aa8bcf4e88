/**
 * The gateway's own vocabulary for upgrades. Vendor words (Huawei `stepDesc`,
 * DJI `output.status`, …) are translated into these inside each adapter and kept
 * verbatim beside them as `vendorStatus`.
 */

/** Which platform an upgrade task came from. */
export enum UpgradeSource {
  HUAWEI = 'HUAWEI',
  DJI = 'DJI',
}

/** What is being upgraded. */
export enum UpgradeKind {
  FIRMWARE = 'FIRMWARE',
  SOFTWARE = 'SOFTWARE',
}

/** The normalised status of a sub-task (one device) and, derived, of a task. */
export enum UpgradeStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  IN_PROGRESS = 'IN_PROGRESS',
  PAUSED = 'PAUSED',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELED = 'CANCELED',
  REJECTED = 'REJECTED',
  TIMED_OUT = 'TIMED_OUT',
}

/** Delivery status of a Huawei device-shadow (desired properties) change. */
export enum ShadowStatus {
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

/** DJI `firmware_upgrade_type`: 2 consistency, 3 regular, 4 PSDK (Dock 3). */
export enum FirmwareUpgradeType {
  CONSISTENT = 'CONSISTENT',
  REGULAR = 'REGULAR',
  PSDK = 'PSDK',
}

/** Wire values of {@link FirmwareUpgradeType} in DJI `ota_create` (per DJI's docs, not the demo's enum labels). */
export const FIRMWARE_UPGRADE_TYPE_WIRE: Readonly<Record<FirmwareUpgradeType, number>> = {
  [FirmwareUpgradeType.CONSISTENT]: 2,
  [FirmwareUpgradeType.REGULAR]: 3,
  [FirmwareUpgradeType.PSDK]: 4,
};

/** Every status, in declaration order. */
export const ALL_STATUSES: readonly UpgradeStatus[] = Object.values(UpgradeStatus);

/**
 * Statuses that are never left again: a later (or older) observation is still
 * kept in the history but moves nothing.
 */
export const TERMINAL_STATUSES: ReadonlySet<UpgradeStatus> = new Set([
  UpgradeStatus.SUCCEEDED,
  UpgradeStatus.FAILED,
  UpgradeStatus.CANCELED,
  UpgradeStatus.REJECTED,
  UpgradeStatus.TIMED_OUT,
]);

/** True when `status` is terminal (see {@link TERMINAL_STATUSES}). */
export function isTerminal(status: UpgradeStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/**
 * Unsuccessful terminal outcomes, worst first. A task whose devices all ended
 * takes the worst outcome among them.
 */
export const FAILURE_SEVERITY: readonly UpgradeStatus[] = [
  UpgradeStatus.FAILED,
  UpgradeStatus.TIMED_OUT,
  UpgradeStatus.REJECTED,
  UpgradeStatus.CANCELED,
];
