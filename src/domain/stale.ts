import { ALL_STATUSES, type UpgradeStatus, isTerminal } from './status';

/**
 * The statuses a sub-task can go stale in: every status that is not terminal.
 * PENDING is included: an upgrade nobody has heard of since it was created is
 * as stuck as one that stopped reporting halfway.
 */
export const OPEN_STATUSES: readonly UpgradeStatus[] = ALL_STATUSES.filter((s) => !isTerminal(s));

/** What the stale rule needs to know of a sub-task. */
export interface StaleCandidate {
  readonly status: UpgradeStatus;
  /** When the gateway last heard anything of this device's upgrade (its own receive time). */
  readonly lastObservedAt: Date;
}

/**
 * True when a sub-task has gone stale: it has not ended and the gateway has
 * heard nothing of it since `noNewsSince` (now minus `STALE_AFTER_MS`).
 *
 * The rule is on the gateway's own receive times, never on the vendor's
 * clock, so a dock whose clock runs ahead cannot keep an upgrade open forever.
 * The stale sweeper closes such a sub-task as TIMED_OUT and marks it
 * `closedByStaleSweep`; any later real report of the device still reopens
 * it (see {@link decideTransition}).
 */
export function isStale(subTask: StaleCandidate, noNewsSince: Date): boolean {
  return !isTerminal(subTask.status) && subTask.lastObservedAt.getTime() < noNewsSince.getTime();
}

/** Why the sweeper closed a sub-task, for its `statusDesc` and history. */
export function staleReason(lastObservedAt: Date, staleAfterMs: number): string {
  return `no news of this upgrade for ${describeDuration(staleAfterMs)} (last at ${lastObservedAt.toISOString()}): timed out by the gateway's stale sweeper`;
}

/** 1200000 → "20 min", 90000 → "90 s", 1500 → "1500 ms". */
function describeDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
