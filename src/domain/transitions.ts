import type { ReportedFields } from './observation';
import { UpgradeStatus, isTerminal } from './status';

/** What the state rules need to know of a sub-task. */
export interface SubTaskState {
  readonly status: UpgradeStatus;
  /** Time of the last observation that moved the state; null before the first. */
  readonly lastOccurredAt: Date | null;
  /**
   * True when the state is a TIMED_OUT set by the stale sweeper rather than
   * reported: a newer real observation may still move it.
   */
  readonly closedByStaleSweep?: boolean;
}

/** Why an observation was kept in the history without moving the state. */
export enum IgnoreReason {
  /** The sub-task already ended (terminal status). */
  TERMINAL = 'TERMINAL',
  /** The observation is older than the last one applied. */
  STALE = 'STALE',
  /** The observation reports no status of its own (Huawei `idle`). */
  NO_STATUS = 'NO_STATUS',
}

/** The outcome of {@link decideTransition}. */
export type TransitionDecision =
  | { readonly applied: true; readonly status: UpgradeStatus }
  | { readonly applied: false; readonly reason: IgnoreReason };

/**
 * Decides whether an observation moves a sub-task.
 *
 * Rules, in order:
 * 1. A terminal sub-task stays as it is, except a sweeper's TIMED_OUT, which a
 *    newer real observation still overrides.
 * 2. An observation older than the last applied one (by its own time) moves nothing.
 * 3. An observation without a status moves nothing.
 *
 * `occurredAt` is the observation's own time, or its receive time where the
 * protocol has none, so that receive order decides.
 */
export function decideTransition(
  current: SubTaskState,
  observed: { readonly status: UpgradeStatus | null; readonly occurredAt: Date },
): TransitionDecision {
  const older = current.lastOccurredAt !== null && observed.occurredAt.getTime() < current.lastOccurredAt.getTime();
  if (isTerminal(current.status)) {
    const reopensSweep = current.closedByStaleSweep === true && !older && observed.status !== null;
    if (!reopensSweep) return { applied: false, reason: IgnoreReason.TERMINAL };
  }
  if (older) return { applied: false, reason: IgnoreReason.STALE };
  if (observed.status === null) return { applied: false, reason: IgnoreReason.NO_STATUS };
  return { applied: true, status: observed.status };
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
