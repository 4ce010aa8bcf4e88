import { Brackets, type DataSource, type SelectQueryBuilder } from 'typeorm';
import type { UpgradeKind, UpgradeSource, UpgradeStatus } from '../domain';
import { ProgressEvent, ShadowEvent, UpgradeSubTask, UpgradeTask } from './entities';

/** Filters of the task list, combined with AND. */
export interface TaskFilter {
  readonly source?: UpgradeSource | null;
  readonly kind?: UpgradeKind | null;
  readonly status?: UpgradeStatus | null;
  readonly gatewaySn?: string | null;
  readonly deviceId?: string | null;
  readonly appId?: string | null;
}

/** Filters of the sub-task list, combined with AND. */
export interface SubTaskFilter {
  readonly taskId?: string | null;
  readonly deviceId?: string | null;
  readonly gatewaySn?: string | null;
  readonly status?: UpgradeStatus | null;
}

/** Filters of progress subscriptions and replays. */
export interface ProgressFilter {
  readonly taskId?: string | null;
  readonly gatewaySn?: string | null;
  readonly deviceId?: string | null;
}

/** A position in a newest-first list ordered by (createdAt, id). */
export interface TimeKey {
  readonly at: Date;
  readonly id: string;
}

/** One page of rows and the total matching the filter. */
export interface Page<T> {
  readonly rows: T[];
  readonly hasNextPage: boolean;
  readonly totalCount: number;
}

/**
 * Every read the API makes, as a few set-based queries: lists page with keyset
 * cursors, nested fields load by batches of ids (DataLoader calls these), and
 * counts are computed in the database.
 */
export class ReadStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Converts a Date into the form the engine stores, for comparisons in raw conditions. */
  private dbDate(entity: Function, property: string, value: Date): unknown {
    const column = this.dataSource.getMetadata(entity).findColumnWithPropertyName(property)!;
    return this.dataSource.driver.preparePersistentValue(value, column);
  }

  /** Tasks, newest first. */
  async listTasks(filter: TaskFilter, first: number, after: TimeKey | null): Promise<Page<UpgradeTask>> {
    const base = () => {
      const qb = this.dataSource.getRepository(UpgradeTask).createQueryBuilder('t');
      if (filter.source) qb.andWhere('t.source = :source', { source: filter.source });
      if (filter.kind) qb.andWhere('t.kind = :kind', { kind: filter.kind });
      if (filter.status) qb.andWhere('t.status = :status', { status: filter.status });
      if (filter.gatewaySn) qb.andWhere('t.gateway_sn = :gatewaySn', { gatewaySn: filter.gatewaySn });
      if (filter.appId) qb.andWhere('t.app_id = :appId', { appId: filter.appId });
      if (filter.deviceId) {
        qb.andWhere('EXISTS (SELECT 1 FROM upgrade_sub_task s WHERE s.task_id = t.id AND s.device_id = :deviceId)', {
          deviceId: filter.deviceId,
        });
      }
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (after) this.afterKey(page, 't', UpgradeTask, after);
    const rows = await page.orderBy('t.created_at', 'DESC').addOrderBy('t.id', 'DESC').take(first + 1).getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /** Sub-tasks, newest first. */
  async listSubTasks(filter: SubTaskFilter, first: number, after: TimeKey | null): Promise<Page<UpgradeSubTask>> {
    const base = () => {
      const qb = this.dataSource.getRepository(UpgradeSubTask).createQueryBuilder('s');
      if (filter.taskId) qb.andWhere('s.task_id = :taskId', { taskId: filter.taskId });
      if (filter.deviceId) qb.andWhere('s.device_id = :deviceId', { deviceId: filter.deviceId });
      if (filter.status) qb.andWhere('s.status = :status', { status: filter.status });
      if (filter.gatewaySn) {
        qb.andWhere('EXISTS (SELECT 1 FROM upgrade_task t WHERE t.id = s.task_id AND t.gateway_sn = :gatewaySn)', {
          gatewaySn: filter.gatewaySn,
        });
      }
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (after) this.afterKey(page, 's', UpgradeSubTask, after);
    const rows = await page.orderBy('s.created_at', 'DESC').addOrderBy('s.id', 'DESC').take(first + 1).getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /** Shadow events, newest first. */
  async listShadowEvents(deviceId: string | null, first: number, afterId: number | null): Promise<Page<ShadowEvent>> {
    const base = () => {
      const qb = this.dataSource.getRepository(ShadowEvent).createQueryBuilder('e');
      if (deviceId) qb.andWhere('e.device_id = :deviceId', { deviceId });
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (afterId !== null) page.andWhere('e.id < :afterId', { afterId });
    const rows = await page.orderBy('e.id', 'DESC').take(first + 1).getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  private afterKey<T extends object>(qb: SelectQueryBuilder<T>, alias: string, entity: Function, key: TimeKey): void {
    const at = this.dbDate(entity, 'createdAt', key.at);
    qb.andWhere(
      new Brackets((w) => {
        w.where(`${alias}.created_at < :afterAt`, { afterAt: at }).orWhere(
          `${alias}.created_at = :afterAt AND ${alias}.id < :afterId`,
          { afterAt: at, afterId: key.id },
        );
      }),
    );
  }

  /** One task by id. */
  task(id: string): Promise<UpgradeTask | null> {
    return this.dataSource.getRepository(UpgradeTask).findOne({ where: { id } });
  }

  /** Tasks by ids, in one query. */
  tasksByIds(ids: readonly string[]): Promise<UpgradeTask[]> {
    return this.dataSource.getRepository(UpgradeTask).createQueryBuilder('t').where('t.id IN (:...ids)', { ids }).getMany();
  }

  /** Sub-tasks by ids, in one query. */
  subTasksByIds(ids: readonly string[]): Promise<UpgradeSubTask[]> {
    return this.dataSource.getRepository(UpgradeSubTask).createQueryBuilder('s').where('s.id IN (:...ids)', { ids }).getMany();
  }

  /** The sub-tasks of several tasks, in one query, oldest first. */
  subTasksOfTasks(taskIds: readonly string[]): Promise<UpgradeSubTask[]> {
    return this.dataSource
      .getRepository(UpgradeSubTask)
      .createQueryBuilder('s')
      .where('s.task_id IN (:...taskIds)', { taskIds })
      .orderBy('s.created_at', 'ASC')
      .addOrderBy('s.id', 'ASC')
      .getMany();
  }

  /** The history of several sub-tasks, in one query, oldest first. */
  eventsOfSubTasks(subTaskIds: readonly string[]): Promise<ProgressEvent[]> {
    return this.dataSource
      .getRepository(ProgressEvent)
      .createQueryBuilder('e')
      .where('e.sub_task_id IN (:...subTaskIds)', { subTaskIds })
      .orderBy('e.id', 'ASC')
      .getMany();
  }

  /**
   * Progress events after `afterId` (exclusive) matching `filter`, oldest first,
   * at most `limit`: the replay of a resumed subscription.
   */
  progressEventsAfter(afterId: number, filter: ProgressFilter, limit: number): Promise<ProgressEvent[]> {
    const qb = this.dataSource.getRepository(ProgressEvent).createQueryBuilder('e').where('e.id > :afterId', { afterId });
    if (filter.taskId) qb.andWhere('e.task_id = :taskId', { taskId: filter.taskId });
    if (filter.deviceId) {
      qb.andWhere('EXISTS (SELECT 1 FROM upgrade_sub_task s WHERE s.id = e.sub_task_id AND s.device_id = :deviceId)', {
        deviceId: filter.deviceId,
      });
    }
    if (filter.gatewaySn) {
      qb.andWhere('EXISTS (SELECT 1 FROM upgrade_task t WHERE t.id = e.task_id AND t.gateway_sn = :gatewaySn)', {
        gatewaySn: filter.gatewaySn,
      });
    }
    return qb.orderBy('e.id', 'ASC').take(limit).getMany();
  }

  /** True when the database answers (readiness). */
  async ping(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
