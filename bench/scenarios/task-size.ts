import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sqlite3 from 'sqlite3';
import { openDatabase } from '../../src/store/data-source';
import { explainFailure, startGatewayProcess, tempDir } from '../lib/gateway';
import { keepAliveAgent, runConcurrently, send } from '../lib/http';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';

const CALLBACK_PATH = '/v1.0.0/messageReceiver';
const WARM_UP = 100;

export interface TaskSizeRun {
  /** Devices (sub-tasks) of the task the pushes go into. */
  readonly devices: number;
  readonly seconds: number;
  readonly pushesPerSecond: number;
  readonly latencyMs: Distribution;
  /** Seeding the task, s (not measured in the rate). */
  readonly seedSeconds: number;
}

export interface TaskSizeResult {
  readonly pushes: number;
  readonly concurrency: number;
  readonly runs: readonly TaskSizeRun[];
  /** Fastest rate over slowest: the target is at most 1.2. */
  readonly spread: number;
}

/**
 * The task-size scenario (issue 19 point 1): `pushes` Huawei result pushes
 * into one task of 10, 1 000 and 50 000 devices (`taskSizes`), `concurrency`
 * in flight, each into an existing device of the task (ten of them, spread
 * across it, at every size: see DEVICES_PUSHED). The task is seeded
 * straight into a fresh SQLite file before the gateway starts, so only the
 * pushes are timed. A push should cost the same whatever the task's size.
 */
export async function taskSize(ctx: ScenarioContext): Promise<TaskSizeResult> {
  const { pushes, concurrency, taskSizes } = ctx.options;
  const runs: TaskSizeRun[] = [];
  for (const devices of taskSizes) {
    const dir = tempDir(`task-size-${devices}`);
    const seedStarted = performance.now();
    const operationId = `size-${devices}-${randomUUID().slice(0, 8)}`;
    await seedTask(join(dir, 'bench.sqlite'), operationId, devices);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    ctx.log(`task size: ${pushes} pushes into a task of ${devices} devices (seeded in ${seedSeconds.toFixed(1)} s)`);
    const gw = await startGatewayProcess({ label: `task-size-${devices}`, dir, cpuProfileDir: ctx.profileDir ?? undefined });
    try {
      const run = await explainFailure(gw, () => load(gw.port, operationId, devices));
      ctx.log(`  ${devices} devices: ${run.pushesPerSecond.toFixed(0)} pushes/s`);
      runs.push({ devices, seedSeconds, ...run });
    } finally {
      await gw.stop();
    }
  }
  const rates = runs.map((r) => r.pushesPerSecond);
  return { pushes, concurrency, runs, spread: Math.max(...rates) / Math.min(...rates) };

  async function load(port: number, operationId: string, devices: number): Promise<Omit<TaskSizeRun, 'devices' | 'seedSeconds'>> {
    const agent = keepAliveAgent(concurrency);
    try {
      const post = async (body: string): Promise<number> => {
        const result = await send(agent, port, 'POST', CALLBACK_PATH, body, { 'content-type': 'application/json' });
        if (result.status !== 200) throw new Error(`push answered ${result.status}: ${result.body.slice(0, 300)}`);
        return result.ms;
      };
      await runConcurrently(WARM_UP, concurrency, Date.now() + 60_000, async (i) => void (await post(resultPush(operationId, devices, -1 - i))));
      // The same ten devices' worth of pushes at every size, spread across the task (rows far apart in a big one).
      const bodies = Array.from({ length: pushes }, (_, i) => resultPush(operationId, devices, i));
      const latencies = new Array<number>(pushes);
      const started = performance.now();
      await runConcurrently(pushes, concurrency, Date.now() + 60_000 + pushes * 20, async (i) => {
        latencies[i] = await post(bodies[i]);
      });
      const seconds = (performance.now() - started) / 1000;
      return { seconds, pushesPerSecond: pushes / seconds, latencyMs: distribution(latencies) };
    } finally {
      agent.destroy();
    }
  }
}

const deviceOf = (operationId: string, n: number) => `${operationId}-dev-${n}`;

/**
 * Devices of the task the pushes go to, the same number at every size: a
 * batch of pushes then reads and writes as many rows whatever the task's size,
 * and only the size differs. (Spread over every device of the task, a batch
 * of a big task touches more distinct rows than one of a 10-device task, where
 * pushes to the same device share a row: that measures the batch's spread,
 * not the task's size.)
 */
const DEVICES_PUSHED = 10;

/** Push `i` (negative: warm-up): a firmware result for one of the pushed devices, spread across the task; each push differs (its duration). */
function resultPush(operationId: string, devices: number, i: number): string {
  const slot = (((i % DEVICES_PUSHED) + DEVICES_PUSHED) % DEVICES_PUSHED) % Math.min(DEVICES_PUSHED, devices);
  const n = Math.floor((slot * devices) / Math.min(DEVICES_PUSHED, devices));
  return JSON.stringify({
    notifyType: 'fwUpgradeResultNotify',
    deviceId: deviceOf(operationId, n),
    appId: 'bench-app',
    operationId,
    subOperationId: `${operationId}-sub-${n}`,
    curVersion: '1.6',
    targetVersion: '1.6',
    sourceVersion: '1.3',
    status: i % 10 === 0 ? 'FAIL' : 'SUCCESS',
    statusDesc: i % 10 === 0 ? 'FAIL: package verify failed' : 'SUCCESS: The device upgrade is successful.',
    upgradeTime: String(1000 + i),
  });
}

/** TypeORM's SQLite datetime text (UTC, milliseconds). */
function sqliteDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Creates the schema with the gateway's migrations and one Huawei task of
 * `devices` PENDING sub-tasks, with its tally (every sub-task counted PENDING).
 */
async function seedTask(path: string, operationId: string, devices: number): Promise<void> {
  const dataSource = await openDatabase({ engine: 'sqlite', path });
  await dataSource.destroy();
  const db = new sqlite3.Database(path);
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  try {
    await run('PRAGMA journal_mode = WAL');
    await run('PRAGMA synchronous = OFF');
    await run('BEGIN');
    const taskId = randomUUID();
    const now = sqliteDate(Date.now());
    await run(
      `INSERT INTO upgrade_task (id, source, kind, external_id, app_id, gateway_sn, status, progress, created_at, updated_at, pending_count)
       VALUES (?, 'HUAWEI', 'FIRMWARE', ?, 'bench-app', NULL, 'PENDING', 0, ?, ?, ?)`,
      [taskId, operationId, now, now, devices],
    );
    const columns = ['id', 'task_id', 'device_id', 'external_id', 'status', 'last_observed_at', 'closed_by_stale_sweep', 'created_at', 'updated_at'];
    const perStatement = Math.floor(30_000 / columns.length);
    for (let start = 0; start < devices; start += perStatement) {
      const rows: unknown[] = [];
      const count = Math.min(perStatement, devices - start);
      for (let n = start; n < start + count; n++) {
        rows.push(randomUUID(), taskId, deviceOf(operationId, n), `${operationId}-sub-${n}`, 'PENDING', now, 0, now, now);
      }
      const marks = `(${columns.map(() => '?').join(',')})`;
      await run(`INSERT INTO upgrade_sub_task (${columns.join(',')}) VALUES ${Array.from({ length: count }, () => marks).join(',')}`, rows);
    }
    await run('COMMIT');
    await run('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
