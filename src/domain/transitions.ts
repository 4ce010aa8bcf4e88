import type { ReportedFields } from './observation';
import { UpgradeStatus, isTerminal } from './status';

/** What the state rules need to know of a sub-task. */
export interface SubTaskState {
  readonly status: UpgradeStatus;
  /**
   * The device's own time of the last applied report that carried a plausible
   * one (see {@link plausibleDeviceTime}); null before any. Only a late
   * redelivery is compared with it.
   */
  readonly lastOccurredAt: Date | null;
  /**
   * True when the state is a TIMED_OUT set by the stale sweeper rather than
   * reported: a later real report of the device still moves it.
   */
  readonly closedByStaleSweep?: boolean;
}

/** One report as the state rules see it. */
export interface ObservedReport {
  /** The normalised status, or null when the report moves no status (Huawei `idle`). */
  readonly status: UpgradeStatus | null;
  /** The device's own time, as reported; null where the protocol carries none (Huawei pushes). */
  readonly occurredAt: Date | null;
  /** When the gateway received it. */
  readonly receivedAt: Date;
  /**
   * True when the transport says this may be a late copy of an earlier message
   * (MQTT DUP) rather than the next one in arrival order. Only then does the
   * device's clock decide.
   */
  readonly redelivered?: boolean;
  /**
   * `gateway` for the gateway's own conclusions (a command that got no reply):
   * they never replace an end the device reported.
   * @default 'device'
   */
  readonly origin?: 'device' | 'gateway';
}

/** Why an observation was kept in the history without moving the state. */
export enum IgnoreReason {
  /** The sub-task already ended (terminal status) and this report does not end it again. */
  TERMINAL = 'TERMINAL',
  /** A late redelivery, older by the device's own plausible clock than the last report applied. */
  STALE = 'STALE',
  /** The observation reports no status of its own (Huawei `idle`). */
  NO_STATUS = 'NO_STATUS',
}

/** The outcome of {@link decideTransition}. */
export type TransitionDecision =
  | { readonly applied: true; readonly status: UpgradeStatus }
  | { readonly applied: false; readonly reason: IgnoreReason };

/** How far ahead of the gateway's receive time a device's clock may be and still be believed. */
export const MAX_DEVICE_CLOCK_AHEAD_MS = 24 * 3_600_000;
/** How far behind it (a message queued at a broker, a clock drifting) before it is not believed either. */
export const MAX_DEVICE_CLOCK_BEHIND_MS = 7 * 24 * 3_600_000;

/**
 * The device's time when it is plausible, i.e. within a day ahead and a week
 * behind the gateway's receive time; null otherwise. A dock that rebooted
 * during its upgrade may report 1970 or a year ahead until it syncs: such a
 * time is kept as reported, for display, but orders nothing.
 */
export function plausibleDeviceTime(occurredAt: Date | null, receivedAt: Date): Date | null {
  if (occurredAt === null) return null;
  const skew = occurredAt.getTime() - receivedAt.getTime();
  return skew <= MAX_DEVICE_CLOCK_AHEAD_MS && skew >= -MAX_DEVICE_CLOCK_BEHIND_MS ? occurredAt : null;
}

/**
 * Decides whether a report moves a sub-task.
 *
 * Reports are applied in arrival order: over one MQTT connection that is the
 * order the dock sent them (QoS 1 keeps a session's order), and Huawei's
 * pushes carry no time to order by. The device's clock decides only for a
 * late redelivery, where it is all there is; a clock that jumped (a reboot
 * to 1970, a year ahead) therefore freezes nothing. Rules, in order:
 *
 * 1. A sub-task that ended stays ended, except that a later terminal report
 *    of the device replaces the end (the device's last word on its upgrade
 *    wins), and any later report of the device reopens a stale sweeper's
 *    TIMED_OUT.
 * 2. A report without a status moves nothing.
 * 3. A terminal report ends a running sub-task, whatever its timestamp.
 * 4. A late redelivery older, by plausible device times on both sides, than
 *    the last report applied moves nothing (nor does it replace an end).
 */
export function decideTransition(current: SubTaskState, observed: ObservedReport): TransitionDecision {
  const byDevice = observed.origin !== 'gateway';
  if (isTerminal(current.status)) {
    const endsAgain = byDevice && observed.status !== null && isTerminal(observed.status);
    const reopensSweep = byDevice && current.closedByStaleSweep === true && observed.status !== null;
    if (!endsAgain && !reopensSweep) return { applied: false, reason: IgnoreReason.TERMINAL };
    if (isLate(current, observed)) return { applied: false, reason: IgnoreReason.STALE };
    return { applied: true, status: observed.status! };
  }
  if (observed.status === null) return { applied: false, reason: IgnoreReason.NO_STATUS };
  if (isTerminal(observed.status)) return { applied: true, status: observed.status };
  if (isLate(current, observed)) return { applied: false, reason: IgnoreReason.STALE };
  return { applied: true, status: observed.status };
}

/** True for a redelivery whose plausible device time is older than the last applied one's. */
function isLate(current: SubTaskState, observed: ObservedReport): boolean {
  if (observed.redelivered !== true || current.lastOccurredAt === null) return false;
  const at = plausibleDeviceTime(observed.occurredAt, observed.receivedAt);
  return at !== null && at.getTime() < current.lastOccurredAt.getTime();
}

/**
 * The sub-task's `lastOccurredAt` once `observed` is applied: the report's
 * device time when plausible, else the one it had (an implausible time, or
 * the gateway's own clock on its own conclusions, is never the reference
 * later redeliveries of the device are held against).
 */
export function lastOccurredAtAfter(current: SubTaskState, observed: ObservedReport): Date | null {
  if (observed.origin === 'gateway') return current.lastOccurredAt;
  return plausibleDeviceTime(observed.occurredAt, observed.receivedAt) ?? current.lastOccurredAt;
}

/**
 * The fields an applied observation writes: every field it reports (non-null)
 * replaces the stored one; what it does not report stays.
 */
export function reportedChanges(reported: ReportedFields): Partial<Record<keyof ReportedFields, string | number>> {
  const changes: Partial<Record<keyof ReportedFields, string | number>> = {};
  for (const key of REPORTED_KEYS) {
    const value = reported[key];
    if (value !== undefined && value !== null) changes[key] = value;
  }
  return changes;
}

/** Every key of {@link ReportedFields}. */
export const REPORTED_KEYS: readonly (keyof ReportedFields)[] = [
  'vendorStatus',
  'subStatus',
  'step',
  'percent',
  'errorCode',
  'statusDesc',
  'sourceVersion',
  'currentVersion',
  'targetVersion',
  'upgradeTime',
];

/** Clamps a reported percent into 0..100 (integers); non-finite values give null. */
export function clampPercent(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Math.min(100, Math.max(0, Math.round(value)));
}
