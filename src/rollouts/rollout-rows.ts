import type { EntityManager } from 'typeorm';
import type { UpgradeSource } from '../domain';
import { Rollout, RolloutTarget } from '../store/entities';
import { COUNT_FIELD, RolloutTargetStatus, type RolloutCounts, type RolloutSettings } from './domain';

/** The counts kept in a rollout row. */
export function countsOf(r: Rollout): RolloutCounts {
  return {
    total: r.total,
    queued: r.queued,
    inProgress: r.inProgress,
    succeeded: r.succeeded,
    failed: r.failed,
    skipped: r.skipped,
    canceled: r.canceled,
  };
}

/** The settings kept in a rollout row. */
export function settingsOf(r: Rollout): RolloutSettings {
  return {
    maxInProgress: r.maxInProgress,
    maxFailurePercentage: r.maxFailurePercentage,
    minFinishedBeforeThreshold: r.minFinishedBeforeThreshold,
    attemptsPerDevice: r.attemptsPerDevice,
    attemptTimeoutSeconds: r.attemptTimeoutSeconds,
  };
}

/** Column of each count. */
const COLUMN: Readonly<Record<keyof RolloutCounts, string>> = {
  total: 'total',
  queued: 'queued',
  inProgress: 'in_progress',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
  canceled: 'canceled',
};

/** Changes of the counts, per count. */
export type CountDelta = Partial<Record<keyof RolloutCounts, number>>;

/** Adds one target's move to `delta`. */
export function addMove(delta: CountDelta, from: RolloutTargetStatus, to: RolloutTargetStatus, n = 1): CountDelta {
  if (from === to) return delta;
  delta[COUNT_FIELD[from]] = (delta[COUNT_FIELD[from]] ?? 0) - n;
  delta[COUNT_FIELD[to]] = (delta[COUNT_FIELD[to]] ?? 0) + n;
  return delta;
}

/**
 * Adds `delta` to the counts of a rollout in the database (`x = x + n`, so it
 * composes with any other change made in the same transaction), with other
 * columns to set and an optional SQL condition the row must meet.
 * @returns true when the row was changed (false: the condition did not hold).
 */
export async function updateCounts(
  tx: EntityManager,
  rolloutId: string,
  delta: CountDelta,
  set: Partial<Pick<Rollout, 'status' | 'pauseReason' | 'startedAt' | 'finishedAt' | 'updatedAt'>> = {},
  condition?: { sql: string; params: Record<string, unknown> },
): Promise<boolean> {
  const values: Record<string, unknown> = { ...set };
  for (const [key, n] of Object.entries(delta) as [keyof RolloutCounts, number][]) {
    if (!n) continue;
    // n is a whole number computed here, never input.
    if (!Number.isSafeInteger(n)) throw new RangeError(`bad count delta ${n}`);
    values[key] = () => `"${COLUMN[key]}" + (${n})`;
  }
  if (Object.keys(values).length === 0) return true;
  const qb = tx.createQueryBuilder().update(Rollout).set(values).where('id = :rolloutId', { rolloutId });
  if (condition) qb.andWhere(condition.sql, condition.params);
  const result = await qb.execute();
  return result.affected === 1;
}

/** A Date as the engine stores it, for comparisons in hand-written conditions. */
export function dbDate(tx: EntityManager, entity: Function, property: string, value: Date): unknown {
  const column = tx.connection.getMetadata(entity).findColumnWithPropertyName(property)!;
  return tx.connection.driver.preparePersistentValue(value, column);
}

/**
 * Up to `limit` queued targets of one platform in `rollout` that may go at
 * `now`, the longest waiting first.
 */
export function dueQueuedTargets(tx: EntityManager, rolloutId: string, source: UpgradeSource, now: Date, limit: number): Promise<RolloutTarget[]> {
  return tx
    .getRepository(RolloutTarget)
    .createQueryBuilder('t')
    .where('t.rollout_id = :id AND t.status = :queued AND t.source = :source', { id: rolloutId, queued: RolloutTargetStatus.QUEUED, source })
    .andWhere('t.not_before <= :now', { now: dbDate(tx, RolloutTarget, 'notBefore', now) })
    .orderBy('t.not_before', 'ASC')
    .addOrderBy('t.id', 'ASC')
    .take(limit)
    .getMany();
}
