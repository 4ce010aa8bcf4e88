import type { EntityManager } from 'typeorm';
import type { InboundEnvelope, UpgradeSource } from '../domain';
import { rowStatements, sendTogether, writeRows } from '../store/bulk-write';
import { marks, selectRows } from '../store/row-reads';
import { keepStoredOf } from '../store/stored-rows';
import { InboundMessage, ProgressEvent, UpgradeSubTask, UpgradeTask, newSubTask } from '../store/entities';
import { DeviceSet } from '../inventory/device-set';
import { batchMemo, writeDeferred, type DeferredStatements, type DeferredWrites } from './write-queue';

/** Most envelopes whose rows one preload reads (it runs again for the rest). */
const PRELOAD_LIMIT = 1024;

/** A sub-task being worked on by the recorder: the entity plus copy helpers. */
export class SubTaskRow extends UpgradeSubTask {
  static from(row: UpgradeSubTask): SubTaskRow {
    const copy = Object.assign(new SubTaskRow(), row);
    // Its update sets only what changed of what was read.
    keepStoredOf(row, copy);
    return copy;
  }

  static fresh(taskId: string, deviceId: string, externalId: string | null, at: Date): SubTaskRow {
    return Object.assign(new SubTaskRow(), newSubTask(taskId, deviceId, at, { externalId }));
  }

  /** A plain copy for subscribers, detached from later changes. */
  snapshot(): UpgradeSubTask {
    const { task: _task, ...fields } = this;
    return Object.assign(new UpgradeSubTask(), fields);
  }
}

/** The key a task is known by within a working set. */
const taskKey = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/** What an envelope needs read: its task, and the sub-tasks of that task it targets. */
function needOf(envelope: InboundEnvelope): { source: string; externalId: string; deviceId: string | null } | null {
  if (envelope.content.kind !== 'observation' || envelope.content.observation.type !== 'upgrade') return null;
  const { task, target } = envelope.content.observation;
  return { source: envelope.source, externalId: task.externalId, deviceId: target.kind === 'device' ? target.deviceId : null };
}

/** The inventory devices an envelope names (read with the batch, see DeviceSet.readerFor). */
function devicesOf(envelope: InboundEnvelope): { source: UpgradeSource; deviceId: string }[] {
  if (envelope.content.kind !== 'observation') return [];
  const o = envelope.content.observation;
  switch (o.type) {
    case 'upgrade':
      return [{ source: o.source, deviceId: o.target.kind === 'device' ? o.target.deviceId : o.target.fallbackDeviceId }];
    case 'shadow':
      return [{ source: o.source, deviceId: o.deviceId }];
    case 'topology':
      return [o.gateway, ...o.subDevices].map((d) => ({ source: o.source, deviceId: d.deviceId }));
    case 'deviceState':
      return [{ source: o.source, deviceId: o.deviceId }];
  }
}

/**
 * What the recorder knows within one writer batch, and the writes it has yet
 * to make.
 *
 * Units of a batch decide against this in memory: the tasks and sub-tasks
 * they touch, and the dedupe keys already taken, are read once for the whole
 * batch (a handful of `IN (…)` queries for every envelope waiting), and every
 * row they change or add is written once, when the queue flushes the batch
 * (see {@link DeferredWrites}): one multi-row statement per table. A burst of
 * 500 progress reports on 100 tasks thus costs about ten statements instead
 * of five per message.
 *
 * Only the sub-tasks an observation targets are read: for one naming its
 * device, that device's row (by task and device id); only an observation
 * about every device of its task (DJI `ota_progress`, a dock and its aircraft)
 * reads all of the task's. The task's status and progress come from its
 * stored tally (see `Tally`), so a push costs the same in a task of 10
 * devices and one of 50 000.
 *
 * Between flushes this is the only true picture of those rows: the queue
 * flushes before any unit that reads the database itself and forgets the
 * working set after it (and after a unit rolls back).
 */
export class WorkingSet implements DeferredWrites {
  /** Tasks by source and external id; null: known not to exist. */
  private readonly tasks = new Map<string, UpgradeTask | null>();
  /** The sub-tasks of each task read or created, by task id, then device id; null: known not to exist. */
  private readonly subTasks = new Map<string, Map<string, SubTaskRow | null>>();
  /** Tasks all of whose sub-tasks are in {@link subTasks}. */
  private readonly complete = new Set<string>();
  /** Dedupe keys: the ledger row that holds one (written or not yet), or null when free. */
  private readonly dedupeKeys = new Map<string, InboundMessage | null>();

  private readonly changedTasks = new Set<UpgradeTask>();
  private readonly changedSubTasks = new Set<SubTaskRow>();
  private events: ProgressEvent[] = [];
  private ledger: InboundMessage[] = [];

  /** The working set of the batch `tx` belongs to. */
  static of(tx: EntityManager): WorkingSet {
    const memo = batchMemo(tx);
    let set = memo.get(WORKING_SET) as WorkingSet | undefined;
    if (!set) memo.set(WORKING_SET, (set = new WorkingSet()));
    return set;
  }

  /**
   * Makes sure what `envelope` needs is known: its dedupe key, its task and
   * the sub-tasks it targets. When something is missing, reads it for the
   * envelopes in `upcoming` too (those queued behind it, mostly of the same
   * batch), so that a burst costs one read per table, not one per message.
   */
  async prepare(tx: EntityManager, envelope: InboundEnvelope, upcoming: Iterable<InboundEnvelope>): Promise<void> {
    if (this.knows(envelope)) return;
    const keys = new Set<string>();
    const tasks = new Map<string, { source: string; externalId: string }>();
    /** (task key, device id) pairs to read, by "task key NUL device id". */
    const devices = new Map<string, { source: string; externalId: string; deviceId: string }>();
    /** Tasks to read every sub-task of. */
    const whole = new Map<string, { source: string; externalId: string }>();
    const named: { source: UpgradeSource; deviceId: string }[] = [];
    const take = (e: InboundEnvelope) => {
      named.push(...devicesOf(e));
      if (e.dedupeKey !== null && !this.dedupeKeys.has(e.dedupeKey)) keys.add(e.dedupeKey);
      const need = needOf(e);
      if (!need) return;
      const key = taskKey(need.source, need.externalId);
      const known = this.tasks.get(key);
      if (known === null) return; // known not to exist: nothing of it to read
      if (known === undefined) tasks.set(key, need);
      if (known && this.complete.has(known.id)) return;
      if (need.deviceId === null) whole.set(key, need);
      else if (!(known && this.subTasks.get(known.id)?.has(need.deviceId))) devices.set(`${key}\u0000${need.deviceId}`, { source: need.source, externalId: need.externalId, deviceId: need.deviceId });
    };
    take(envelope);
    let taken = 1;
    for (const e of upcoming) {
      if (taken++ >= PRELOAD_LIMIT) break;
      take(e);
    }
    // The reads are independent: sent together, they cost one round trip.
    const externalIds = [...new Set([...tasks.values()].map((t) => t.externalId))];
    const wholeIds = [...new Set([...whole.values()].map((t) => t.externalId))];
    const pairs = [...devices.values()];
    const none = async () => [];
    const deviceSet = DeviceSet.of(tx);
    // Sub-tasks found through their task's (source, external id): the join only narrows, its columns are not read.
    const subTasks = (where: string, parameters: readonly unknown[]) =>
      selectRows(tx, UpgradeSubTask, { alias: 's', joins: 'INNER JOIN upgrade_task t ON t.id = s.task_id', where, parameters, forUpdate: true });
    const [held, found, targeted, all] = (await sendTogether<unknown[]>(tx, [
      keys.size > 0
        ? () => selectRows(tx, InboundMessage, { alias: 'm', where: `m.dedupe_key IN (${marks(keys.size)})`, parameters: [...keys], select: ['id', 'dedupeKey'] })
        : none,
      tasks.size > 0
        ? () => selectRows(tx, UpgradeTask, { alias: 't', where: `t.external_id IN (${marks(externalIds.length)})`, parameters: externalIds, forUpdate: true })
        : none,
      pairs.length > 0
        ? () =>
            // One indexed lookup per (task, device) named, on uq_upgrade_sub_task_device.
            subTasks(
              `(t.source, t.external_id, s.device_id) IN (VALUES ${pairs.map(() => '(?, ?, ?)').join(', ')})`,
              pairs.flatMap((p) => [p.source, p.externalId, p.deviceId]),
            )
        : none,
      wholeIds.length > 0 ? () => subTasks(`t.external_id IN (${marks(wholeIds.length)})`, wholeIds) : none,
      deviceSet.readerFor(tx, named) ?? none,
    ])) as [InboundMessage[], UpgradeTask[], UpgradeSubTask[], UpgradeSubTask[], unknown[]];
    for (const key of keys) this.dedupeKeys.set(key, null);
    for (const row of held) this.dedupeKeys.set(row.dedupeKey!, row);
    for (const key of tasks.keys()) this.tasks.set(key, null);
    for (const task of found) {
      // Same external id, other source: not one of ours.
      if (!tasks.has(taskKey(task.source, task.externalId))) continue;
      this.tasks.set(taskKey(task.source, task.externalId), task);
      this.rowsOf(task.id);
    }
    // What this batch already holds in memory is newer than what it reads: never replaced.
    const keep = (row: UpgradeSubTask) => {
      const rows = this.rowsOf(row.taskId);
      if (!rows.get(row.deviceId)) rows.set(row.deviceId, SubTaskRow.from(row));
    };
    for (const pair of pairs) {
      const task = this.tasks.get(taskKey(pair.source, pair.externalId));
      if (!task) continue;
      const rows = this.rowsOf(task.id);
      if (!rows.has(pair.deviceId)) rows.set(pair.deviceId, null);
    }
    for (const row of targeted) keep(row);
    for (const row of all) keep(row);
    for (const key of whole.keys()) {
      const task = this.tasks.get(key);
      if (task) this.complete.add(task.id);
    }
    // A dock's aircraft is named only by its sub-task: read with the others, in one more round trip.
    if (all.length > 0) {
      const sourceOf = new Map(found.map((t) => [t.id, t.source]));
      const aircraft = all.flatMap((row) => (sourceOf.has(row.taskId) ? [{ source: sourceOf.get(row.taskId)!, deviceId: row.deviceId }] : []));
      await deviceSet.readerFor(tx, aircraft)?.();
    }
  }

  private knows(envelope: InboundEnvelope): boolean {
    if (envelope.dedupeKey !== null && !this.dedupeKeys.has(envelope.dedupeKey)) return false;
    const need = needOf(envelope);
    if (need === null) return true;
    const task = this.tasks.get(taskKey(need.source, need.externalId));
    if (task === undefined) return false;
    if (task === null || this.complete.has(task.id)) return true;
    return need.deviceId !== null && this.subTasks.get(task.id)?.has(need.deviceId) === true;
  }

  /**
   * The ledger id of the message that took `key` first, or null when none did.
   * A holder recorded earlier in this batch is written out first, for its id.
   */
  async holderOf(tx: EntityManager, key: string): Promise<number | null> {
    if (!this.dedupeKeys.has(key)) {
      const [held] = await selectRows(tx, InboundMessage, { alias: 'm', where: 'm.dedupe_key = ?', parameters: [key], select: ['id', 'dedupeKey'] });
      this.dedupeKeys.set(key, held ?? null);
    }
    const holder = this.dedupeKeys.get(key) ?? null;
    if (holder === null) return null;
    if (holder.id === undefined) await this.flushLedger(tx);
    return holder.id;
  }

  /** The task `source`/`externalId`, read if this batch has not read it yet; null when there is none. */
  async task(tx: EntityManager, source: UpgradeTask['source'], externalId: string): Promise<UpgradeTask | null> {
    const key = taskKey(source, externalId);
    if (!this.tasks.has(key)) {
      const [task] = await selectRows(tx, UpgradeTask, { alias: 't', where: 't.source = ? AND t.external_id = ?', parameters: [source, externalId], forUpdate: true });
      this.tasks.set(key, task ?? null);
    }
    return this.tasks.get(key) ?? null;
  }

  /** Adds a task created by this batch; it is written with the next flush. */
  addTask(task: UpgradeTask): void {
    this.tasks.set(taskKey(task.source, task.externalId), task);
    this.subTasks.set(task.id, new Map());
    this.complete.add(task.id);
    this.changedTasks.add(task);
  }

  /** Marks a task read by this batch as changed. */
  taskChanged(task: UpgradeTask): void {
    this.changedTasks.add(task);
  }

  /** The sub-task of `taskId` for `deviceId`, read if this batch has not read it yet; null when there is none. */
  async subTask(tx: EntityManager, taskId: string, deviceId: string): Promise<SubTaskRow | null> {
    const rows = this.rowsOf(taskId);
    if (!rows.has(deviceId) && !this.complete.has(taskId)) {
      const [row] = await selectRows(tx, UpgradeSubTask, { alias: 's', where: 's.task_id = ? AND s.device_id = ?', parameters: [taskId, deviceId], forUpdate: true });
      rows.set(deviceId, row ? SubTaskRow.from(row) : null);
    }
    return rows.get(deviceId) ?? null;
  }

  /**
   * Every sub-task of a task, read if this batch has not read them all yet.
   * For observations about every device of a task (DJI: a dock and its
   * aircraft); one naming its device reads only that one (see {@link subTask}).
   */
  async allSubTasksOf(tx: EntityManager, taskId: string): Promise<SubTaskRow[]> {
    const rows = this.rowsOf(taskId);
    if (!this.complete.has(taskId)) {
      for (const row of await selectRows(tx, UpgradeSubTask, { alias: 's', where: 's.task_id = ?', parameters: [taskId], forUpdate: true })) {
        if (!rows.get(row.deviceId)) rows.set(row.deviceId, SubTaskRow.from(row));
      }
      this.complete.add(taskId);
    }
    return [...rows.values()].filter((row): row is SubTaskRow => row !== null);
  }

  private rowsOf(taskId: string): Map<string, SubTaskRow | null> {
    let rows = this.subTasks.get(taskId);
    if (!rows) this.subTasks.set(taskId, (rows = new Map()));
    return rows;
  }

  /** Adds a sub-task created by this batch (its task's tally is the caller's to update); written with the next flush. */
  addSubTask(row: SubTaskRow): void {
    this.rowsOf(row.taskId).set(row.deviceId, row);
    this.changedSubTasks.add(row);
  }

  /** Marks a sub-task as changed; it is written with the next flush. */
  subTaskChanged(row: SubTaskRow): void {
    this.changedSubTasks.add(row);
  }

  /** Adds a progress event; its `id` is set when the flush writes it. */
  addEvent(event: ProgressEvent): void {
    this.events.push(event);
  }

  /** Adds a ledger row; a row with a dedupe key takes the key from now on. */
  addLedger(row: InboundMessage): void {
    this.ledger.push(row);
    if (row.dedupeKey !== null) this.dedupeKeys.set(row.dedupeKey, row);
  }

  /** Writes every change and addition now (see {@link takeWrites}). */
  flush(tx: EntityManager): Promise<void> {
    return writeDeferred(tx, this.takeWrites(tx));
  }

  /**
   * The statements that write every change and addition, parents before
   * children; once they have run, the generated ids are set on the rows.
   */
  takeWrites(tx: EntityManager): DeferredStatements | null {
    const events = this.events;
    const ledger = this.ledger;
    const statements = [
      ...rowStatements(tx, UpgradeTask, [...this.changedTasks], 'update'),
      ...rowStatements(tx, UpgradeSubTask, [...this.changedSubTasks], 'update'),
    ];
    const eventsAt = statements.length;
    statements.push(...rowStatements(tx, ProgressEvent, events));
    const ledgerAt = statements.length;
    statements.push(...rowStatements(tx, InboundMessage, ledger));
    if (statements.length === 0) return null;
    this.changedTasks.clear();
    this.changedSubTasks.clear();
    this.events = [];
    this.ledger = [];
    return {
      statements,
      written: (keys) => {
        const eventIds = keys.slice(eventsAt, ledgerAt).flat();
        events.forEach((event, i) => (event.id = eventIds[i]));
        const ledgerIds = keys.slice(ledgerAt).flat();
        ledger.forEach((row, i) => (row.id = ledgerIds[i]));
      },
    };
  }

  private async flushLedger(tx: EntityManager): Promise<void> {
    if (this.ledger.length === 0) return;
    const rows = this.ledger;
    this.ledger = [];
    const ids = await writeRows(tx, InboundMessage, rows);
    rows.forEach((row, i) => (row.id = ids[i]));
  }
}

/** Where a batch keeps the recorder's working set. */
const WORKING_SET = 'recorder:working-set';
