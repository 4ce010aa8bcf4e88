import type { Logger } from 'pino';
import { Brackets, type DataSource } from 'typeorm';
import { OPEN_STATUSES, UpgradeSource, type UpgradeObservation } from '../../../domain';
import type { UpgradeProgressMessage } from '../../../recorder/event-bus';
import type { Recorder } from '../../../recorder/recorder';
import type { WriteQueue } from '../../../recorder/write-queue';
import { UpgradeTask } from '../../../store/entities';
import { NorthboundError, safeError, type HuaweiNorthboundClient } from './client';
import { mapSubOperationStatus, NORTHBOUND_PATHS, OperationAnswerSchema, SUB_OPERATION_PAGE_SIZE, SubOperationPageSchema, type SubOperation } from './protocol';

/** Open tasks read per query (keyset pages, oldest first). */
const TASK_BATCH = 50;
/** Most sub-operation pages read per task and run (100 000 devices). */
const MAX_PAGES = 1000;
/** How long a task the stale sweeper ended is still read back (a device offline for a while may still finish). */
const SWEPT_WINDOW_MS = 24 * 3600_000;
/** Most "no longer known" task ids remembered (so each is logged once). */
const MAX_FORGOTTEN = 10_000;

/** What one task's reconciliation found. */
export interface ReconcileOutcome {
  /** False when the platform no longer knows the task (it is left as it is). */
  readonly known: boolean;
  /** Sub-operations read. */
  readonly read: number;
  /** Progress events recorded (0 when the platform said nothing new). */
  readonly recorded: number;
}

/** What the reconciler needs. */
export interface ReconcilerDependencies {
  readonly client: HuaweiNorthboundClient;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  /** Where open tasks are read from. */
  readonly dataSource: DataSource;
  readonly logger: Logger;
}

/**
 * Fills in what pushes missed: reads each open Huawei task back from the
 * platform (the task, then its sub-operations page by page) and hands each
 * sub-operation's status to the recorder as a quiet observation: it counts
 * only when it moves a device forward or names a device never heard of, so a
 * poll that finds what is known adds nothing, and a newer push is never
 * overridden. Safe on several instances at once: it only feeds observations.
 */
export class HuaweiReconciler {
  private readonly forgotten = new Set<string>();
  private halted = false;

  constructor(private readonly deps: ReconcilerDependencies) {}

  /** Ends a pass in progress after the page at hand (shutdown). */
  halt(): void {
    this.halted = true;
  }

  /**
   * One pass over every open Huawei task (and those the stale sweeper ended in
   * the last 24 h), oldest first, in keyset pages.
   */
  async reconcileOpenTasks(): Promise<{ tasks: number; recorded: number }> {
    let after: { createdAt: Date; id: string } | null = null;
    let tasks = 0;
    let recorded = 0;
    for (;;) {
      const batch = await this.openTasks(after);
      for (const task of batch) {
        if (this.halted) return { tasks, recorded };
        tasks += 1;
        try {
          recorded += (await this.reconcileTask(task)).recorded;
        } catch (error) {
          // One task's failure (the platform down) does not hold up the others; the next run tries again.
          this.deps.logger.warn({ err: safeError(error), taskId: task.id, operationId: task.externalId }, 'Huawei task not reconciled');
        }
      }
      if (batch.length < TASK_BATCH) return { tasks, recorded };
      const last = batch[batch.length - 1];
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  /** Reads one task back from the platform and records what is new. @throws NorthboundError when the platform fails */
  async reconcileTask(task: UpgradeTask): Promise<ReconcileOutcome> {
    const operationId = task.externalId;
    try {
      await this.deps.client.call({ method: 'GET', path: NORTHBOUND_PATHS.operation(operationId), schema: OperationAnswerSchema });
    } catch (error) {
      if (error instanceof NorthboundError && error.status === 404) {
        if (!this.forgotten.has(task.id)) {
          if (this.forgotten.size >= MAX_FORGOTTEN) this.forgotten.clear();
          this.forgotten.add(task.id);
          this.deps.logger.warn({ taskId: task.id, operationId, platformCode: error.platformCode }, 'the Huawei platform no longer knows this task; left as it is');
        }
        return { known: false, read: 0, recorded: 0 };
      }
      throw error;
    }
    let read = 0;
    let recorded = 0;
    for (let pageNo = 0; pageNo < MAX_PAGES && !this.halted; pageNo += 1) {
      const page = await this.deps.client.call({
        method: 'GET',
        path: NORTHBOUND_PATHS.subOperations(operationId, pageNo, SUB_OPERATION_PAGE_SIZE),
        schema: SubOperationPageSchema,
      });
      read += page.data.length;
      recorded += await this.record(task, page.data);
      if (page.data.length === 0 || (pageNo + 1) * SUB_OPERATION_PAGE_SIZE >= page.totalCount) break;
    }
    return { known: true, read, recorded };
  }

  /** One writer unit per page: each sub-operation as a quiet observation; published after the commit. */
  private async record(task: UpgradeTask, subOperations: readonly SubOperation[]): Promise<number> {
    if (subOperations.length === 0) return 0;
    return this.deps.queue.submit(async (tx) => {
      const messages: UpgradeProgressMessage[] = [];
      const at = new Date();
      for (const sub of subOperations) {
        messages.push(...(await this.deps.recorder.applyOwnObservationIn(tx, observationOf(task, sub), at)));
      }
      return { result: messages.length, afterCommit: () => this.deps.recorder.publishProgress(messages) };
    });
  }

  private openTasks(after: { createdAt: Date; id: string } | null): Promise<UpgradeTask[]> {
    const metadata = this.deps.dataSource.getMetadata(UpgradeTask);
    const createdAt = metadata.findColumnWithPropertyName('createdAt')!;
    const updatedAt = metadata.findColumnWithPropertyName('updatedAt')!;
    const query = this.deps.dataSource
      .getRepository(UpgradeTask)
      .createQueryBuilder('t')
      .where('t.source = :source', { source: UpgradeSource.HUAWEI })
      // Open, or ended only because the stale sweeper gave a device up lately: the platform may know better.
      .andWhere(
        new Brackets((qb) =>
          qb.where('t.status IN (:...open)', { open: OPEN_STATUSES }).orWhere(
            new Brackets((swept) =>
              swept
                .where('t.updated_at > :since', { since: this.deps.dataSource.driver.preparePersistentValue(new Date(Date.now() - SWEPT_WINDOW_MS), updatedAt) })
                .andWhere('EXISTS (SELECT 1 FROM upgrade_sub_task s WHERE s.task_id = t.id AND s.closed_by_stale_sweep = :swept)', { swept: true }),
            ),
          ),
        ),
      );
    if (after) {
      const at = this.deps.dataSource.driver.preparePersistentValue(after.createdAt, createdAt);
      query.andWhere('(t.created_at > :at OR (t.created_at = :at AND t.id > :id))', { at, id: after.id });
    }
    return query.orderBy('t.created_at', 'ASC').addOrderBy('t.id', 'ASC').limit(TASK_BATCH).getMany();
  }
}

/** A sub-operation as the recorder takes it: a quiet observation of one device. */
export function observationOf(task: UpgradeTask, sub: SubOperation): UpgradeObservation {
  return {
    type: 'upgrade',
    source: UpgradeSource.HUAWEI,
    kind: task.kind,
    task: { externalId: task.externalId },
    target: { kind: 'device', deviceId: sub.deviceId, externalId: sub.subOperationId },
    status: mapSubOperationStatus(sub.status),
    vendorStatus: sub.status,
    statusDesc: sub.detailInfo ?? null,
    // Platform snapshots carry times in the platform's clock; receive order decides, as for pushes.
    occurredAt: null,
    quiet: true,
  };
}
