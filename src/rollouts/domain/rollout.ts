/**
 * The rules of a rollout, as pure functions: no I/O, no clock but the one
 * passed in. The engine (src/rollouts/engine.ts) reads rows, asks these
 * functions what follows, and writes what they answer in one writer unit.
 */
import { UpgradeStatus } from '../../domain';

/** Where a rollout stands. */
export enum RolloutStatus {
  /** Created; waits for `startRollout` or its `startAt`. */
  SCHEDULED = 'SCHEDULED',
  RUNNING = 'RUNNING',
  /** Nothing new is sent; targets in flight finish and are counted. */
  PAUSED = 'PAUSED',
  /** Nothing queued, nothing in flight. */
  COMPLETED = 'COMPLETED',
  /** Nothing new is sent; targets in flight finish and are counted, the rest are CANCELED. */
  CANCELED = 'CANCELED',
}

/** Why a rollout is PAUSED. */
export enum RolloutPauseReason {
  MANUAL = 'MANUAL',
  FAILURE_THRESHOLD = 'FAILURE_THRESHOLD',
}

/** Where one device of a rollout stands. */
export enum RolloutTargetStatus {
  QUEUED = 'QUEUED',
  IN_PROGRESS = 'IN_PROGRESS',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  CANCELED = 'CANCELED',
}

/** How many targets of a rollout are in each status; kept in the rollout row, changed with every target. */
export interface RolloutCounts {
  readonly total: number;
  readonly queued: number;
  readonly inProgress: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly canceled: number;
}

/** The count field of each target status. */
export const COUNT_FIELD: Readonly<Record<RolloutTargetStatus, Exclude<keyof RolloutCounts, 'total'>>> = {
  [RolloutTargetStatus.QUEUED]: 'queued',
  [RolloutTargetStatus.IN_PROGRESS]: 'inProgress',
  [RolloutTargetStatus.SUCCEEDED]: 'succeeded',
  [RolloutTargetStatus.FAILED]: 'failed',
  [RolloutTargetStatus.SKIPPED]: 'skipped',
  [RolloutTargetStatus.CANCELED]: 'canceled',
};

export const EMPTY_COUNTS: RolloutCounts = { total: 0, queued: 0, inProgress: 0, succeeded: 0, failed: 0, skipped: 0, canceled: 0 };

/** The counts after `n` targets moved from `from` to `to`. */
export function moveCounts(counts: RolloutCounts, from: RolloutTargetStatus, to: RolloutTargetStatus, n = 1): RolloutCounts {
  if (from === to || n === 0) return counts;
  const next = { ...counts };
  next[COUNT_FIELD[from]] -= n;
  next[COUNT_FIELD[to]] += n;
  return next;
}

/** Targets that have ended for the failure brake: succeeded or failed (skipped and canceled ones never ran). */
export function finishedCount(counts: RolloutCounts): number {
  return counts.succeeded + counts.failed;
}

/** Percent of the targets that reached an end (succeeded, failed, skipped or canceled), 0..100. */
export function progressOf(counts: RolloutCounts): number {
  if (counts.total === 0) return 100;
  const ended = counts.succeeded + counts.failed + counts.skipped + counts.canceled;
  return Math.floor((ended * 100) / counts.total);
}

/** The settings a rollout runs by. */
export interface RolloutSettings {
  readonly maxInProgress: number;
  readonly maxFailurePercentage: number;
  readonly minFinishedBeforeThreshold: number;
  readonly attemptsPerDevice: number;
  readonly attemptTimeoutSeconds: number;
}

/** A rollout's state as these rules see it. */
export interface RolloutState {
  readonly status: RolloutStatus;
  readonly pauseReason: RolloutPauseReason | null;
  readonly counts: RolloutCounts;
}

/**
 * True when the failure brake trips: at least `minFinishedBeforeThreshold`
 * targets finished (succeeded or failed) and failed / finished is above
 * `maxFailurePercentage`.
 */
export function failureThresholdExceeded(counts: RolloutCounts, settings: Pick<RolloutSettings, 'maxFailurePercentage' | 'minFinishedBeforeThreshold'>): boolean {
  const finished = finishedCount(counts);
  if (finished === 0 || finished < settings.minFinishedBeforeThreshold) return false;
  // Integer cross-multiplication would need the percentage as an integer; it may be fractional (12.5).
  return (counts.failed * 100) / finished > settings.maxFailurePercentage;
}

/**
 * What a rollout becomes after its counts changed because targets ended.
 * - A new failure that trips the brake pauses a RUNNING rollout (FAILURE_THRESHOLD).
 * - A RUNNING or PAUSED rollout with nothing queued and nothing in flight is COMPLETED.
 * A CANCELED rollout stays CANCELED (its last targets in flight end in it).
 * The brake is judged only when a target has just FAILED, so a rollout resumed
 * above the threshold goes on until its next failure.
 */
export function afterTargetsEnded(state: RolloutState, settings: RolloutSettings, newFailure: boolean): Pick<RolloutState, 'status' | 'pauseReason'> {
  const { status, pauseReason, counts } = state;
  if (status !== RolloutStatus.RUNNING && status !== RolloutStatus.PAUSED) return { status, pauseReason };
  if (counts.queued === 0 && counts.inProgress === 0) return { status: RolloutStatus.COMPLETED, pauseReason: null };
  if (status === RolloutStatus.RUNNING && newFailure && failureThresholdExceeded(counts, settings)) {
    return { status: RolloutStatus.PAUSED, pauseReason: RolloutPauseReason.FAILURE_THRESHOLD };
  }
  return { status, pauseReason };
}

// ---------------------------------------------------------------------------
// One attempt's end
// ---------------------------------------------------------------------------

/**
 * DJI result codes that mean "not now" rather than "this failed": the dock is
 * already upgrading (312014), busy (312015), or its battery is too low
 * (312704). The target is tried again later without spending an attempt.
 */
export const BUSY_ERROR_CODES: ReadonlySet<string> = new Set(['312014', '312015', '312704']);

/** The sub-task of an attempt, as far as its end matters. */
export interface AttemptReport {
  readonly status: UpgradeStatus;
  readonly errorCode: string | null;
  readonly statusDesc?: string | null;
}

/** What becomes of a target whose attempt ended. */
export interface AttemptOutcome {
  readonly status: RolloutTargetStatus.QUEUED | RolloutTargetStatus.SUCCEEDED | RolloutTargetStatus.FAILED;
  /** Attempts spent after this one (the busy answer gives its attempt back). */
  readonly attempts: number;
  /** True for a busy answer: queue it again after a pause, attempt not spent. */
  readonly busy: boolean;
  readonly lastError: string | null;
}

const ENDED: ReadonlySet<UpgradeStatus> = new Set([
  UpgradeStatus.SUCCEEDED,
  UpgradeStatus.FAILED,
  UpgradeStatus.CANCELED,
  UpgradeStatus.REJECTED,
  UpgradeStatus.TIMED_OUT,
]);

/** True when the sub-task of an attempt has ended, whatever the outcome. */
export function attemptEnded(status: UpgradeStatus): boolean {
  return ENDED.has(status);
}

/**
 * The outcome of a target's attempt that ended. `attempts` counts the attempts
 * made so far, this one included (it is counted when the attempt is sent).
 * SUCCEEDED ends the target; a busy answer queues it again and gives the
 * attempt back; any other end (FAILED, REJECTED, CANCELED, TIMED_OUT) spends
 * the attempt and queues it again while attempts remain, else FAILED.
 */
export function attemptOutcome(report: AttemptReport, attempts: number, attemptsPerDevice: number): AttemptOutcome {
  if (!attemptEnded(report.status)) throw new RangeError(`attempt has not ended: ${report.status}`);
  if (report.status === UpgradeStatus.SUCCEEDED) {
    return { status: RolloutTargetStatus.SUCCEEDED, attempts, busy: false, lastError: null };
  }
  const reason = describeEnd(report);
  if (report.errorCode !== null && BUSY_ERROR_CODES.has(report.errorCode)) {
    return { status: RolloutTargetStatus.QUEUED, attempts: Math.max(0, attempts - 1), busy: true, lastError: reason };
  }
  if (attempts < attemptsPerDevice) return { status: RolloutTargetStatus.QUEUED, attempts, busy: false, lastError: reason };
  return { status: RolloutTargetStatus.FAILED, attempts, busy: false, lastError: reason };
}

function describeEnd(report: AttemptReport): string {
  const code = report.errorCode ? ` (${report.errorCode}${BUSY_ERROR_CODES.has(report.errorCode) ? ': device busy, tried again' : ''})` : '';
  const desc = report.statusDesc ? `: ${report.statusDesc}` : '';
  return `${report.status}${code}${desc}`;
}

/** True when an attempt sent at `startedAt` has run past its time-out at `now`. */
export function attemptTimedOut(startedAt: Date, now: Date, attemptTimeoutSeconds: number): boolean {
  return now.getTime() - startedAt.getTime() >= attemptTimeoutSeconds * 1000;
}

// ---------------------------------------------------------------------------
// What to send next
// ---------------------------------------------------------------------------

/** A queued target as the dispatcher sees it. */
export interface QueuedTarget {
  readonly id: number;
  readonly deviceId: string;
  /** The dock the `ota_create` goes to (the device itself for a dock). */
  readonly gatewaySn: string;
}

/** One `ota_create`: up to two targets of one dock (the dock and its aircraft). */
export interface DispatchGroup<T extends QueuedTarget = QueuedTarget> {
  readonly gatewaySn: string;
  readonly targets: readonly T[];
}

/** DJI's `ota_create` takes at most this many devices. */
export const MAX_DEVICES_PER_COMMAND = 2;

/** Free slots under the in-flight cap. */
export function freeSlots(counts: RolloutCounts, maxInProgress: number): number {
  return Math.max(0, maxInProgress - counts.inProgress);
}

/**
 * What to send next, from queued targets in queue order: at most `room`
 * targets, grouped per dock (up to two per `ota_create`), never to a dock in
 * `busyGateways` (one `ota_create` per dock at a time) and never two commands
 * to one dock. A group that would overflow `room` is cut to what fits, and its
 * rest waits for the next round.
 */
export function planDispatch<T extends QueuedTarget>(queued: readonly T[], busyGateways: ReadonlySet<string>, room: number): DispatchGroup<T>[] {
  const groups = new Map<string, T[]>();
  let planned = 0;
  // Group first, in queue order, so that a dock's aircraft found later still joins its dock.
  for (const target of queued) {
    if (busyGateways.has(target.gatewaySn)) continue;
    const group = groups.get(target.gatewaySn);
    if (group) {
      if (group.length < MAX_DEVICES_PER_COMMAND && !group.some((t) => t.deviceId === target.deviceId)) group.push(target);
    } else {
      groups.set(target.gatewaySn, [target]);
    }
  }
  const out: DispatchGroup<T>[] = [];
  for (const [gatewaySn, targets] of groups) {
    if (planned >= room) break;
    const taken = targets.slice(0, room - planned);
    planned += taken.length;
    out.push({ gatewaySn, targets: taken });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Operator commands
// ---------------------------------------------------------------------------

/** The code of every refused operator command, in `extensions.code`. */
export const ROLLOUT_STATE_ERROR_CODE = 'ROLLOUT_STATE_CONFLICT';

/** An operator command the rollout's status does not allow; nothing changes. */
export class RolloutStateError extends Error {
  readonly code = ROLLOUT_STATE_ERROR_CODE;
  constructor(
    readonly command: RolloutCommand,
    readonly status: RolloutStatus,
    message: string,
  ) {
    super(message);
    this.name = 'RolloutStateError';
  }
}

export type RolloutCommand = 'start' | 'pause' | 'resume' | 'cancel' | 'retryFailures';

/** What an operator command changes. */
export interface CommandEffect {
  readonly status: RolloutStatus;
  readonly pauseReason: RolloutPauseReason | null;
  /** Queued targets become CANCELED (cancel). */
  readonly cancelQueued: boolean;
  /** FAILED targets go back to the queue with their attempts reset (retryFailures). */
  readonly requeueFailed: boolean;
}

const refuse = (command: RolloutCommand, status: RolloutStatus, why: string) => new RolloutStateError(command, status, `Cannot ${verb(command)} a ${status} rollout: ${why}`);

function verb(command: RolloutCommand): string {
  return command === 'retryFailures' ? 'retry the failures of' : command;
}

/**
 * What an operator command does to a rollout in `state`.
 * - start: SCHEDULED → RUNNING.
 * - pause: RUNNING → PAUSED (MANUAL).
 * - resume: PAUSED → RUNNING.
 * - cancel: SCHEDULED, RUNNING or PAUSED → CANCELED; queued targets become CANCELED.
 * - retryFailures: FAILED targets back to the queue; a COMPLETED rollout runs again.
 *   Refused on a CANCELED rollout and when nothing failed.
 * @throws RolloutStateError when the status does not allow the command; nothing changes then.
 */
export function applyCommand(command: RolloutCommand, state: RolloutState): CommandEffect {
  const { status } = state;
  const keep = { cancelQueued: false, requeueFailed: false };
  switch (command) {
    case 'start':
      if (status !== RolloutStatus.SCHEDULED) throw refuse(command, status, 'only a SCHEDULED rollout can be started');
      return { status: RolloutStatus.RUNNING, pauseReason: null, ...keep };
    case 'pause':
      if (status !== RolloutStatus.RUNNING) throw refuse(command, status, 'only a RUNNING rollout can be paused');
      return { status: RolloutStatus.PAUSED, pauseReason: RolloutPauseReason.MANUAL, ...keep };
    case 'resume':
      if (status !== RolloutStatus.PAUSED) throw refuse(command, status, 'only a PAUSED rollout can be resumed');
      return { status: RolloutStatus.RUNNING, pauseReason: null, ...keep };
    case 'cancel':
      if (status === RolloutStatus.COMPLETED || status === RolloutStatus.CANCELED) throw refuse(command, status, 'it has already ended');
      return { status: RolloutStatus.CANCELED, pauseReason: null, cancelQueued: true, requeueFailed: false };
    case 'retryFailures':
      if (status === RolloutStatus.CANCELED) throw refuse(command, status, 'a canceled rollout sends nothing more');
      if (state.counts.failed === 0) throw refuse(command, status, 'no target has failed');
      return {
        status: status === RolloutStatus.COMPLETED ? RolloutStatus.RUNNING : status,
        pauseReason: status === RolloutStatus.COMPLETED ? null : state.pauseReason,
        cancelQueued: false,
        requeueFailed: true,
      };
  }
}

/** The counts after a command's effect on the targets. */
export function countsAfterCommand(counts: RolloutCounts, effect: CommandEffect): RolloutCounts {
  let next = counts;
  if (effect.cancelQueued) next = moveCounts(next, RolloutTargetStatus.QUEUED, RolloutTargetStatus.CANCELED, counts.queued);
  if (effect.requeueFailed) next = moveCounts(next, RolloutTargetStatus.FAILED, RolloutTargetStatus.QUEUED, counts.failed);
  return next;
}

/** True when a rollout has work the engine should look at (sending, or counting what is in flight). */
export function isActive(status: RolloutStatus, counts: RolloutCounts): boolean {
  if (status === RolloutStatus.RUNNING || status === RolloutStatus.PAUSED || status === RolloutStatus.SCHEDULED) return true;
  return counts.inProgress > 0;
}

/** True when a SCHEDULED rollout with `startAt` should start at `now`. */
export function dueToStart(status: RolloutStatus, startAt: Date | null, now: Date): boolean {
  return status === RolloutStatus.SCHEDULED && startAt !== null && startAt.getTime() <= now.getTime();
}
