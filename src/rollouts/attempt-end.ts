import { IsNull, type EntityManager } from 'typeorm';
import { RolloutTarget } from '../store/entities';
import { RolloutStatus, RolloutTargetStatus, type AttemptOutcome } from './domain';

/**
 * Moves an IN_PROGRESS target whose attempt ended to what `outcome` says,
 * conditionally on it still being IN_PROGRESS with the same sub-task (and
 * wave), so an end is counted once whoever notices it. A canceled rollout
 * sends nothing new: an attempt that would be retried ends the target instead.
 * A target queued again waits `retryDelayMs`.
 * @returns the status it moved to, or null when another writer moved it first
 */
export async function endAttemptIn(
  tx: EntityManager,
  target: Pick<RolloutTarget, 'id' | 'subTaskId' | 'waveId' | 'notBefore'>,
  outcome: Pick<AttemptOutcome, 'status' | 'attempts' | 'lastError'>,
  rolloutStatus: RolloutStatus,
  now: Date,
  retryDelayMs: number,
): Promise<RolloutTargetStatus | null> {
  const to = outcome.status === RolloutTargetStatus.QUEUED && rolloutStatus === RolloutStatus.CANCELED ? RolloutTargetStatus.CANCELED : outcome.status;
  const moved = await tx.update(
    RolloutTarget,
    {
      id: target.id,
      status: RolloutTargetStatus.IN_PROGRESS,
      subTaskId: target.subTaskId ?? IsNull(),
      waveId: target.waveId ?? IsNull(),
    },
    {
      status: to,
      attempts: outcome.attempts,
      lastError: outcome.lastError,
      waveId: null,
      notBefore: to === RolloutTargetStatus.QUEUED ? new Date(now.getTime() + retryDelayMs) : target.notBefore,
      updatedAt: now,
    },
  );
  return moved.affected === 1 ? to : null;
}
