import { Brackets, type DataSource, type SelectQueryBuilder } from 'typeorm';
import type { UpgradeKind, UpgradeSource, UpgradeStatus } from '../domain';
import { ProgressEvent, ShadowEvent, UpgradeSubTask, UpgradeTask } from './entities';
import { marks, selectRows } from './row-reads';

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
  /** The platform of the sub-task's task (a DJI device and a Huawei one may share an id). */
  readonly source?: UpgradeSource | null;
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
  /** In list order, whichever way the page was read. */
  readonly rows: T[];
  /** More rows lie beyond the page in the direction it was read (after it forward, before it backward). */
  readonly hasNextPage: boolean;
  readonly totalCount: number;
}

/**
 * Backward paging (Relay's `last`/`before`): the page is the `size` rows just
 * before `before` in list order (or the last `size` rows of the list).
 */
export interface BackwardWindow<K> {
  readonly backward?: boolean;
  readonly before?: K | null;
}

/** One page of the children of one parent (a task's sub-tasks, a sub-task's events). */
export interface ChildPage<T> {
  readonly rows: T[];
  /** More children lie beyond the page in the direction it was read. */
  readonly hasMore: boolean;
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
  async listTasks(filter: TaskFilter, first: number, after: TimeKey | null, window: BackwardWindow<TimeKey> = {}): Promise<Page<UpgradeTask>> {
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
    if (window.before) this.afterKey(page, 't', UpgradeTask, window.before, '>');
    const order = window.backward ? 'ASC' : 'DESC';
    const rows = await page.orderBy('t.created_at', order).addOrderBy('t.id', order).take(first + 1).getMany();
    return sliced(rows, first, totalCount, window.backward);
  }

  /** Sub-tasks, newest first. */
  async listSubTasks(
    filter: SubTaskFilter,
    first: number,
    after: TimeKey | null,
    window: BackwardWindow<TimeKey> = {},
  ): Promise<Page<UpgradeSubTask>> {
    const base = () => {
      const qb = this.dataSource.getRepository(UpgradeSubTask).createQueryBuilder('s');
      if (filter.taskId) qb.andWhere('s.task_id = :taskId', { taskId: filter.taskId });
      if (filter.deviceId) qb.andWhere('s.device_id = :deviceId', { deviceId: filter.deviceId });
      if (filter.status) qb.andWhere('s.status = :status', { status: filter.status });
      if (filter.source) {
        qb.andWhere('EXISTS (SELECT 1 FROM upgrade_task t WHERE t.id = s.task_id AND t.source = :source)', { source: filter.source });
      }
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
    if (window.before) this.afterKey(page, 's', UpgradeSubTask, window.before, '>');
    const order = window.backward ? 'ASC' : 'DESC';
    const rows = await page.orderBy('s.created_at', order).addOrderBy('s.id', order).take(first + 1).getMany();
    return sliced(rows, first, totalCount, window.backward);
  }

  /** Shadow events, newest first. */
  async listShadowEvents(
    deviceId: string | null,
    first: number,
    afterId: number | null,
    window: BackwardWindow<number> = {},
  ): Promise<Page<ShadowEvent>> {
    const base = () => {
      const qb = this.dataSource.getRepository(ShadowEvent).createQueryBuilder('e');
      if (deviceId) qb.andWhere('e.device_id = :deviceId', { deviceId });
      return qb;
    };
    const totalCount = await base().getCount();
    const page = base();
    if (afterId !== null) page.andWhere('e.id < :afterId', { afterId });
    if (window.before != null) page.andWhere('e.id > :beforeId', { beforeId: window.before });
    const rows = await page.orderBy('e.id', window.backward ? 'ASC' : 'DESC').take(first + 1).getMany();
    return sliced(rows, first, totalCount, window.backward);
  }

  /** Rows past `key` in a newest-first list: older (`<`, after it) or newer (`>`, before it). */
  private afterKey<T extends object>(qb: SelectQueryBuilder<T>, alias: string, entity: Function, key: TimeKey, op: '<' | '>' = '<'): void {
    const at = this.dbDate(entity, 'createdAt', key.at);
    const name = op === '<' ? 'after' : 'before';
    qb.andWhere(
      new Brackets((w) => {
        w.where(`${alias}.created_at ${op} :${name}At`, { [`${name}At`]: at }).orWhere(
          `${alias}.created_at = :${name}At AND ${alias}.id ${op} :${name}Id`,
          { [`${name}At`]: at, [`${name}Id`]: key.id },
        );
      }),
    );
  }

  /** One task by id. */
  async task(id: string): Promise<UpgradeTask | null> {
    const [row] = await this.byIds(UpgradeTask, [id]);
    return row ?? null;
  }

  /** Tasks by ids, in one query. */
  tasksByIds(ids: readonly string[]): Promise<UpgradeTask[]> {
    return this.byIds(UpgradeTask, ids);
  }

  /** Sub-tasks by ids, in one query. */
  subTasksByIds(ids: readonly string[]): Promise<UpgradeSubTask[]> {
    return this.byIds(UpgradeSubTask, ids);
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

  /** Progress events by ids, in one query. */
  progressEventsByIds(ids: readonly number[]): Promise<ProgressEvent[]> {
    return this.byIds(ProgressEvent, ids);
  }

  /** Shadow events by ids, in one query. */
  shadowEventsByIds(ids: readonly number[]): Promise<ShadowEvent[]> {
    return this.byIds(ShadowEvent, ids);
  }

  /**
   * Rows by primary key, in one plain statement (see selectRows): the
   * DataLoaders of nested fields call these for every page, and a plain
   * statement spares TypeORM's query building and generic hydration.
   */
  private byIds<T extends { id: string | number }>(entity: new () => T, ids: readonly (string | number)[]): Promise<T[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return selectRows(this.dataSource.manager, entity, { alias: 'r', where: `r.id IN (${marks(ids.length)})`, parameters: ids });
  }

  /**
   * One page of sub-tasks for each task, by device id (the order of the
   * unique (task_id, device_id) index, so a page costs the same in a task of
   * 10 devices and one of 50 000), in two queries for any number of tasks.
   */
  async subTaskPages(
    taskIds: readonly string[],
    size: number,
    after: string | null,
    window: BackwardWindow<string> = {},
  ): Promise<Map<string, ChildPage<UpgradeSubTask>>> {
    const keys = await this.childKeys(UpgradeSubTask, 'task_id', 'device_id', taskIds, size, after, window);
    const rows = keys.length > 0 ? await this.subTasksByIds(keys.map((k) => String(k.id))) : [];
    return childPages(keys, rows, taskIds, size, window.backward);
  }

  /** One page of history for each sub-task, oldest first, in two queries for any number of sub-tasks. */
  async eventPages(
    subTaskIds: readonly string[],
    size: number,
    after: number | null,
    window: BackwardWindow<number> = {},
  ): Promise<Map<string, ChildPage<ProgressEvent>>> {
    const keys = await this.childKeys(ProgressEvent, 'sub_task_id', 'id', subTaskIds, size, after, window);
    const rows = keys.length > 0 ? await this.progressEventsByIds(keys.map((k) => Number(k.id))) : [];
    return childPages(keys, rows, subTaskIds, size, window.backward);
  }

  /** How many sub-tasks each task has. */
  subTaskCounts(taskIds: readonly string[]): Promise<Map<string, number>> {
    return this.countsBy(UpgradeSubTask, 'task_id', taskIds);
  }

  /** How many events each sub-task has. */
  eventCounts(subTaskIds: readonly string[]): Promise<Map<string, number>> {
    return this.countsBy(ProgressEvent, 'sub_task_id', subTaskIds);
  }

  private async countsBy(entity: Function, parentColumn: string, parentIds: readonly string[]): Promise<Map<string, number>> {
    const rows: { parent: string; count: string | number }[] = await this.dataSource
      .getRepository(entity)
      .createQueryBuilder('c')
      .select(`c.${parentColumn}`, 'parent')
      .addSelect('COUNT(*)', 'count')
      .where(`c.${parentColumn} IN (:...parentIds)`, { parentIds })
      .groupBy(`c.${parentColumn}`)
      .getRawMany();
    return new Map(rows.map((r) => [String(r.parent), Number(r.count)]));
  }

  /**
   * The ids of the first `size + 1` children of each parent past the cursor,
   * in key order (reversed when reading backward): one window-function query
   * (SQLite 3.25+ and PostgreSQL), each parent read along its index.
   */
  private async childKeys(
    entity: Function,
    parentColumn: string,
    keyColumn: string,
    parentIds: readonly string[],
    size: number,
    after: string | number | null,
    window: BackwardWindow<string | number>,
  ): Promise<{ id: string | number; parent: string }[]> {
    if (parentIds.length === 0) return [];
    const order = window.backward ? 'DESC' : 'ASC';
    const inner = this.dataSource
      .getRepository(entity)
      .createQueryBuilder('c')
      .select('c.id', 'id')
      .addSelect(`c.${parentColumn}`, 'parent')
      .addSelect(`ROW_NUMBER() OVER (PARTITION BY c.${parentColumn} ORDER BY c.${keyColumn} ${order})`, 'rn')
      .where(`c.${parentColumn} IN (:...parentIds)`, { parentIds });
    if (after !== null) inner.andWhere(`c.${keyColumn} > :afterKey`, { afterKey: after });
    if (window.before != null) inner.andWhere(`c.${keyColumn} < :beforeKey`, { beforeKey: window.before });
    const rows: { id: string | number; parent: string; rn: string | number }[] = await this.dataSource
      .createQueryBuilder()
      .select('w.id', 'id')
      .addSelect('w.parent', 'parent')
      .addSelect('w.rn', 'rn')
      .from(`(${inner.getQuery()})`, 'w')
      .where('w.rn <= :limit', { limit: size + 1 })
      .setParameters(inner.getParameters())
      .getRawMany();
    return rows.sort((a, b) => Number(a.rn) - Number(b.rn)).map((r) => ({ id: r.id, parent: String(r.parent) }));
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

/** A page from `size + 1` rows read in list order (forward) or against it (backward). */
function sliced<T>(rows: T[], size: number, totalCount: number, backward = false): Page<T> {
  const page = rows.slice(0, size);
  return { rows: backward ? page.reverse() : page, hasNextPage: rows.length > size, totalCount };
}

/** Groups children read by {@link ReadStore.childKeys} into one page per parent, in list order. */
function childPages<T extends { id: string | number }>(
  keys: readonly { id: string | number; parent: string }[],
  rows: readonly T[],
  parentIds: readonly string[],
  size: number,
  backward = false,
): Map<string, ChildPage<T>> {
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const grouped = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  for (const key of keys) {
    const row = byId.get(String(key.id));
    if (row) grouped.get(key.parent)?.push(row);
  }
  return new Map(
    [...grouped].map(([parent, children]) => {
      const page = children.slice(0, size);
      return [parent, { rows: backward ? page.reverse() : page, hasMore: children.length > size }];
    }),
  );
}
