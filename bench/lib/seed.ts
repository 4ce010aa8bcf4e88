import { randomUUID } from 'node:crypto';
import sqlite3 from 'sqlite3';
import { openDatabase } from '../../src/store/data-source';

/** What was seeded: counts, and device ids to ask the history of. */
export interface Seeded {
  readonly tasks: number;
  readonly subTasks: number;
  readonly events: number;
  readonly devices: number;
  readonly seconds: number;
  readonly fileMb: number;
  /** A sample of device ids, for the history queries. */
  readonly deviceIds: string[];
}

/** Sub-tasks per task. */
const SUB_TASKS_PER_TASK = 2;
/** Tasks a device takes part in, on average. */
const TASKS_PER_DEVICE = 10;

/** TypeORM's SQLite datetime text (UTC, milliseconds). */
function sqliteDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Creates the schema with the gateway's own migrations, then writes `tasks`
 * tasks (two devices each; a device is in about ten tasks) and `events`
 * progress events spread evenly over their sub-tasks, straight through the
 * sqlite3 driver in large transactions. Most tasks ended (succeeded or
 * failed), the newest are in progress; creation times span the last 30 days.
 */
export async function seedDatabase(path: string, tasks: number, events: number): Promise<Seeded> {
  const started = Date.now();
  const dataSource = await openDatabase({ engine: 'sqlite', path });
  await dataSource.destroy();

  const db = new sqlite3.Database(path);
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  const subTasks = tasks * SUB_TASKS_PER_TASK;
  const devices = Math.max(SUB_TASKS_PER_TASK, Math.floor(subTasks / TASKS_PER_DEVICE));
  const deviceId = (n: number) => `seed-dev-${String(n).padStart(6, '0')}`;
  const now = Date.now();
  const span = 30 * 24 * 3600 * 1000;

  /** Inserts rows with multi-row statements inside the open transaction. */
  const insertRows = async (table: string, columns: string[], rows: unknown[][]) => {
    const perStatement = Math.floor(30_000 / columns.length);
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const marks = `(${columns.map(() => '?').join(',')})`;
      await run(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(',')}) VALUES ${chunk.map(() => marks).join(',')}`, chunk.flat());
    }
  };

  try {
    await run('PRAGMA journal_mode = WAL');
    await run('PRAGMA synchronous = OFF');
    await run('BEGIN');
    const taskRows: unknown[][] = [];
    const subRows: unknown[][] = [];
    const subTaskPlan: { id: string; taskId: string; final: string; createdAt: number; events: number }[] = [];
    for (let i = 0; i < tasks; i++) {
      const id = randomUUID();
      const huawei = i % 2 === 0;
      const createdAt = now - span + Math.floor((span * i) / tasks);
      // The newest tenth is still under way; of the rest, one in eight failed.
      const open = i >= tasks * 0.9;
      const statuses: string[] = [];
      for (let j = 0; j < SUB_TASKS_PER_TASK; j++) {
        const status = open ? 'IN_PROGRESS' : (i + j) % 8 === 0 ? 'FAILED' : 'SUCCEEDED';
        statuses.push(status);
        const subId = randomUUID();
        const updatedAt = createdAt + 10 * 60_000;
        subRows.push([
          subId, id, deviceId((i * SUB_TASKS_PER_TASK + j) % devices), huawei ? `seed-sub-${i}-${j}` : null, status,
          status === 'SUCCEEDED' ? (huawei ? 'SUCCESS' : 'ok') : status === 'FAILED' ? (huawei ? 'FAIL' : 'failed') : huawei ? 'downloading' : 'in_progress',
          status === 'IN_PROGRESS' ? 50 : 100, '1.3', status === 'SUCCEEDED' ? '1.6' : '1.3', '1.6',
          sqliteDate(updatedAt), sqliteDate(updatedAt), 0, sqliteDate(createdAt), sqliteDate(updatedAt),
        ]);
        subTaskPlan.push({ id: subId, taskId: id, final: status, createdAt, events: 0 });
      }
      const taskStatus = statuses.every((s) => s === statuses[0]) ? statuses[0] : statuses.includes('IN_PROGRESS') ? 'IN_PROGRESS' : 'FAILED';
      taskRows.push([
        id, huawei ? 'HUAWEI' : 'DJI', huawei && i % 4 === 2 ? 'SOFTWARE' : 'FIRMWARE', `seed-op-${i}`,
        huawei ? 'seed-app' : null, huawei ? null : `SEEDDOCK${String(i % 200).padStart(3, '0')}`,
        taskStatus, open ? 50 : 100, sqliteDate(createdAt), sqliteDate(createdAt + 10 * 60_000),
      ]);
    }
    await insertRows(
      'upgrade_task',
      ['id', 'source', 'kind', 'external_id', 'app_id', 'gateway_sn', 'status', 'progress', 'created_at', 'updated_at'],
      taskRows,
    );
    await insertRows(
      'upgrade_sub_task',
      ['id', 'task_id', 'device_id', 'external_id', 'status', 'vendor_status', 'percent', 'source_version', 'current_version',
        'target_version', 'last_occurred_at', 'last_observed_at', 'closed_by_stale_sweep', 'created_at', 'updated_at'],
      subRows,
    );
    // Each task's tally (see src/domain/tally.ts), as the recorder keeps it.
    await run(`UPDATE upgrade_sub_task SET progress = CASE WHEN status = 'SUCCEEDED' THEN 100 ELSE percent END`);
    const count = (status: string) => `(SELECT COUNT(*) FROM upgrade_sub_task s WHERE s.task_id = upgrade_task.id AND s.status = '${status}')`;
    await run(
      `UPDATE upgrade_task SET in_progress_count = ${count('IN_PROGRESS')}, succeeded_count = ${count('SUCCEEDED')}, failed_count = ${count('FAILED')},
        progress_sum = (SELECT COALESCE(SUM(COALESCE(s.progress, 0)), 0) FROM upgrade_sub_task s WHERE s.task_id = upgrade_task.id)`,
    );
    // Events, oldest first (ids grow with time as they do live): each sub-task's history is a few
    // in-progress steps ending in its final status.
    for (let n = 0; n < events; n++) subTaskPlan[n % subTaskPlan.length].events++;
    const eventColumns = ['sub_task_id', 'task_id', 'status', 'reported_status', 'vendor_status', 'percent', 'step', 'error_code',
      'applied', 'occurred_at', 'received_at'];
    let batch: unknown[][] = [];
    for (const plan of subTaskPlan) {
      for (let e = 0; e < plan.events; e++) {
        const lastOne = e === plan.events - 1;
        const status = lastOne ? plan.final : 'IN_PROGRESS';
        const at = sqliteDate(plan.createdAt + e * 60_000);
        const percent = lastOne && plan.final !== 'IN_PROGRESS' ? 100 : Math.round(((e + 1) * 100) / (plan.events + 1));
        batch.push([plan.id, plan.taskId, status, status, status === 'IN_PROGRESS' ? 'downloading' : status.toLowerCase(), percent,
          e < plan.events / 2 ? 'downloading' : 'updating', status === 'FAILED' ? '7' : null, 1, at, at]);
        if (batch.length >= 20_000) {
          await insertRows('progress_event', eventColumns, batch);
          batch = [];
        }
      }
    }
    await insertRows('progress_event', eventColumns, batch);
    await run('COMMIT');
    await run('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
  const { statSync } = await import('node:fs');
  const sample = Array.from({ length: Math.min(devices, 500) }, (_, n) => deviceId(Math.floor((n * devices) / Math.min(devices, 500))));
  return {
    tasks,
    subTasks,
    events,
    devices,
    seconds: (Date.now() - started) / 1000,
    fileMb: statSync(path).size / 1024 / 1024,
    deviceIds: sample,
  };
}
