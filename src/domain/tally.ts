import { ALL_STATUSES, FAILURE_SEVERITY, UpgradeStatus, isTerminal } from './status';

/**
 * What a group of sub-tasks derives its status and progress from, kept
 * incrementally so that one observation costs the same in a task of 10 devices
 * and one of 50 000.
 *
 * The pattern, for a task today and for any later aggregate over sub-tasks (a
 * rollout, a device group): the owner stores a {@link Tally}; whoever changes
 * a sub-task computes its {@link SubTaskShare} before and after the change
 * once, and applies {@link retally} to every aggregate the sub-task belongs to,
 * in the same transaction as the sub-task's own write. Derived values
 * ({@link deriveTaskStatus}, {@link deriveTaskProgress}) are functions of the
 * tally alone. {@link tallyOf} is the full recount the incremental one must
 * always equal (property-tested).
 */
export type StatusCounts = Readonly<Record<UpgradeStatus, number>>;

/** Per-status counts of a group of sub-tasks and the sum of their progress shares. */
export interface Tally {
  readonly counts: StatusCounts;
  /** Sum of every sub-task's {@link progressShare}. */
  readonly progressSum: number;
}

/** What one sub-task contributes to a tally. */
export interface SubTaskShare {
  readonly status: UpgradeStatus;
  /** The device's overall progress 0..100 (see {@link nextDeviceProgress}); null before any. */
  readonly progress: number | null;
}

const ZERO_COUNTS: StatusCounts = Object.freeze(Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<UpgradeStatus, number>);

/** The tally of no sub-task. */
export const EMPTY_TALLY: Tally = Object.freeze({ counts: ZERO_COUNTS, progressSum: 0 });

/** A sub-task's share of its task's progress: 100 once succeeded, its progress so far otherwise (0 before any). */
export function progressShare(share: SubTaskShare): number {
  return share.status === UpgradeStatus.SUCCEEDED ? 100 : (share.progress ?? 0);
}

/** The full recount: the tally of `subTasks`. */
export function tallyOf(subTasks: Iterable<SubTaskShare>): Tally {
  let tally = EMPTY_TALLY;
  for (const s of subTasks) tally = retally(tally, null, s);
  return tally;
}

/**
 * The tally after one sub-task changed from `before` to `after`: `before`
 * null for a sub-task just added, `after` null for one removed.
 */
export function retally(tally: Tally, before: SubTaskShare | null, after: SubTaskShare | null): Tally {
  if (before !== null && after !== null && before.status === after.status && progressShare(before) === progressShare(after)) return tally;
  const counts: Record<UpgradeStatus, number> = { ...tally.counts };
  let progressSum = tally.progressSum;
  if (before !== null) {
    counts[before.status] -= 1;
    progressSum -= progressShare(before);
  }
  if (after !== null) {
    counts[after.status] += 1;
    progressSum += progressShare(after);
  }
  return { counts, progressSum };
}

/** How many sub-tasks a tally counts. */
export function totalOf(counts: StatusCounts): number {
  let total = 0;
  for (const s of ALL_STATUSES) total += counts[s];
  return total;
}

/** The counts of a list of statuses. */
export function countStatuses(statuses: Iterable<UpgradeStatus>): StatusCounts {
  const counts: Record<UpgradeStatus, number> = { ...ZERO_COUNTS };
  for (const s of statuses) counts[s] += 1;
  return counts;
}

/**
 * A task's status, derived from its sub-tasks' counts:
 * none yet: PENDING; all in one status: that status; all terminal: SUCCEEDED
 * when all succeeded, else the worst outcome among them; otherwise IN_PROGRESS.
 */
export function deriveTaskStatus(counts: StatusCounts): UpgradeStatus {
  const total = totalOf(counts);
  if (total === 0) return UpgradeStatus.PENDING;
  const single = ALL_STATUSES.find((s) => counts[s] === total);
  if (single !== undefined) return single;
  const ended = ALL_STATUSES.filter(isTerminal).reduce((sum, s) => sum + counts[s], 0);
  if (ended === total) return FAILURE_SEVERITY.find((outcome) => counts[outcome] > 0) ?? UpgradeStatus.SUCCEEDED;
  return UpgradeStatus.IN_PROGRESS;
}

/**
 * A task's progress: the rounded mean of its sub-tasks' progress shares (a
 * succeeded sub-task counting 100, one with no progress yet 0). Null for a
 * task with no sub-task.
 */
export function deriveTaskProgress(tally: Tally): number | null {
  const total = totalOf(tally.counts);
  return total === 0 ? null : Math.round(tally.progressSum / total);
}

/**
 * Where each phase of an upgrade lies on the device's overall 0..100 scale.
 * A DJI dock reports `percent` per step, from 0 again when it moves from
 * downloading to installing; weighted here, its bar runs 0–50 while it
 * downloads and 50–100 while it installs. A step not listed spans 0–100.
 */
export const PHASE_SPANS: Readonly<Record<string, { readonly from: number; readonly to: number }>> = {
  download_firmware: { from: 0, to: 50 },
  upgrade_firmware: { from: 50, to: 100 },
};

/** A phase's `percent` on the overall scale (see {@link PHASE_SPANS}); null when neither is known. */
export function phaseProgress(step: string | null, percent: number | null): number | null {
  const span = step === null ? undefined : PHASE_SPANS[step];
  if (percent === null) return span ? span.from : null;
  const { from, to } = span ?? { from: 0, to: 100 };
  return Math.round(from + (percent * (to - from)) / 100);
}

/**
 * A device's overall progress after an applied report: 100 once it succeeded,
 * otherwise the furthest it has got (it never goes back, so neither does its
 * task's mean: a redelivered or reordered report, or a dock starting its
 * next phase at 0 %, does not make a bar jump backwards).
 */
export function nextDeviceProgress(
  previous: number | null,
  after: { readonly status: UpgradeStatus; readonly step: string | null; readonly percent: number | null },
): number | null {
  if (after.status === UpgradeStatus.SUCCEEDED) return 100;
  const now = phaseProgress(after.step, after.percent);
  if (now === null) return previous;
  return previous === null ? now : Math.max(previous, now);
}
