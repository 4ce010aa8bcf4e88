/**
 * Baseline of scenario 4: the same reads as the dashboard and device-history
 * GraphQL queries, as the same set-based SQL straight on the sqlite3 driver,
 * answered as JSON by a bare Node HTTP server in its own process: what the
 * data costs without GraphQL, DataLoader and TypeORM. Reads the file named by
 * BENCH_DB; tells the bench its port over IPC.
 *
 *   GET /dashboard            first page of 50 tasks with status counts and sub-tasks
 *   GET /history?deviceId=X   first page of 20 sub-tasks of a device with task and events
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sqlite3 from 'sqlite3';

const db = new sqlite3.Database(process.env.BENCH_DB ?? '', sqlite3.OPEN_READONLY);

type Row = Record<string, unknown>;

function all(sql: string, params: unknown[] = []): Promise<Row[]> {
  return new Promise((resolve, reject) => db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as Row[]))));
}

/** snake_case columns to camelCase fields, datetime text to ISO strings, as the API serialises them. */
function shape(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    const name = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = key.endsWith('_at') && typeof value === 'string' ? new Date(`${value.replace(' ', 'T')}Z`).toISOString() : value;
  }
  return out;
}

/** The columns the GraphQL queries select, so both answers carry the same data. */
const TASK = 'id, source, kind, external_id, gateway_sn, status, progress, created_at, updated_at';
const SUB_TASK =
  'id, task_id, device_id, status, vendor_status, step, percent, source_version, current_version, target_version, status_desc, error_code, created_at, updated_at';
const HISTORY_SUB_TASK = 'id, task_id, device_id, status, vendor_status, step, percent, current_version, target_version, created_at, updated_at';
const HISTORY_TASK = 'id, source, external_id, status';
const EVENT = 'id, sub_task_id, status, vendor_status, percent, step, error_code, applied, occurred_at';

const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');

async function dashboard(first: number): Promise<unknown> {
  const [{ n }] = await all('SELECT COUNT(*) AS n FROM upgrade_task');
  const rows = await all(`SELECT ${TASK} FROM upgrade_task ORDER BY created_at DESC, id DESC LIMIT ?`, [first + 1]);
  const tasks = rows.slice(0, first).map(shape);
  const ids = tasks.map((t) => t.id);
  const [counts, subTasks] = ids.length
    ? await Promise.all([
        all(`SELECT task_id, status, COUNT(*) AS count FROM upgrade_sub_task WHERE task_id IN (${marks(ids.length)}) GROUP BY task_id, status`, ids),
        all(`SELECT ${SUB_TASK} FROM upgrade_sub_task WHERE task_id IN (${marks(ids.length)}) ORDER BY created_at ASC, id ASC`, ids),
      ])
    : [[], []];
  const byTask = new Map<unknown, Row & { statusCounts: Row[]; subTasks: Row[] }>(
    tasks.map((t) => [t.id, { ...t, statusCounts: [], subTasks: [] }]),
  );
  for (const c of counts) byTask.get(c.task_id)?.statusCounts.push({ status: c.status, count: c.count });
  for (const s of subTasks) byTask.get(s.task_id)?.subTasks.push(shape(s));
  return {
    upgradeTasks: {
      totalCount: n,
      pageInfo: { hasNextPage: rows.length > first, endCursor: null },
      edges: [...byTask.values()].map((node) => ({ cursor: node.id, node })),
    },
  };
}

async function history(deviceId: string, first: number): Promise<unknown> {
  const [{ n }] = await all('SELECT COUNT(*) AS n FROM upgrade_sub_task WHERE device_id = ?', [deviceId]);
  const rows = await all(`SELECT ${HISTORY_SUB_TASK} FROM upgrade_sub_task WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, [
    deviceId,
    first + 1,
  ]);
  const subTasks = rows.slice(0, first).map(shape);
  const taskIds = [...new Set(subTasks.map((s) => s.taskId))];
  const subIds = subTasks.map((s) => s.id);
  const [tasks, events] = subIds.length
    ? await Promise.all([
        all(`SELECT ${HISTORY_TASK} FROM upgrade_task WHERE id IN (${marks(taskIds.length)})`, taskIds),
        all(`SELECT ${EVENT} FROM progress_event WHERE sub_task_id IN (${marks(subIds.length)}) ORDER BY id ASC`, subIds),
      ])
    : [[], []];
  const taskById = new Map(tasks.map((t) => [t.id, shape(t)]));
  const eventsBySub = new Map<unknown, Row[]>(subIds.map((id) => [id, []]));
  for (const e of events) eventsBySub.get(e.sub_task_id)?.push(shape(e));
  return {
    upgradeSubTasks: {
      totalCount: n,
      edges: subTasks.map((s) => ({ cursor: s.id, node: { ...s, task: taskById.get(s.taskId), events: eventsBySub.get(s.id) } })),
    },
  };
}

const server = createHttpServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const answer =
    url.pathname === '/dashboard'
      ? dashboard(50)
      : url.pathname === '/history'
        ? history(url.searchParams.get('deviceId') ?? '', 20)
        : Promise.reject(new Error('not found'));
  answer.then(
    (data) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data })),
    (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
  );
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => db.close(() => process.exit(0)));
});
