import { isTerminal, UpgradeStatus } from './status';

/** How far along a status is: waiting, sent, under way, ended. */
function rankOf(status: UpgradeStatus, closedByStaleSweep: boolean): number {
  // The sweeper's TIMED_OUT is the gateway's guess, not the device's end: still under way.
  if (isTerminal(status)) return closedByStaleSweep ? 2 : 3;
  if (status === UpgradeStatus.PENDING) return 0;
  if (status === UpgradeStatus.SENT) return 1;
  return 2;
}

/**
 * True when `next` is further along than the sub-task's current status: what a
 * poll must show to count (see `UpgradeObservation.quiet`). A poll never moves
 * a device back (a platform snapshot saying `wait` after a push said
 * `downloading`), nor sideways (`processing` after `updating` says nothing new),
 * but a platform outcome does replace the stale sweeper's TIMED_OUT.
 */
export function advancesStatus(current: { readonly status: UpgradeStatus; readonly closedByStaleSweep?: boolean }, next: UpgradeStatus): boolean {
  return rankOf(next, false) > rankOf(current.status, current.closedByStaleSweep === true);
}
