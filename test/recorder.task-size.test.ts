/**
 * A push costs the same in a task of 10 devices and one of 50 000: the
 * recorder reads the one sub-task a push names, never the task's others, and
 * takes the task's status and progress from its stored tally. Counted here as
 * the sub-task rows the database hands the recorder (every read of the
 * SQLite connection is seen), not as time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { UpgradeStatus } from '../src/domain';
import type { EventBus } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { UpgradeTask } from '../src/store/entities';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

let dir: string;
let dataSource: DataSource;
let recorder: Recorder;
let loaded = 0;
const bus: EventBus = { publishProgress: () => undefined, publishShadow: () => undefined };

type Rows = Record<string, unknown>[];
type Callback = (this: unknown, error: Error | null, rows: Rows) => void;
type All = (sql: string, parameters: unknown[], callback: Callback) => void;

/** Counts the sub-task rows every read of the connection returns, whoever reads (TypeORM or the writer's own statements). */
function countSubTaskRows(source: DataSource): void {
  const connection = (source.driver as unknown as { databaseConnection: { all: All } }).databaseConnection;
  const all = connection.all.bind(connection) as All;
  connection.all = (sql, parameters, callback) =>
    all(sql, parameters, function (this: unknown, error, rows) {
      if (!error && /\bFROM "upgrade_sub_task"/.test(sql)) loaded += rows.length;
      // sqlite3 calls back with the statement as `this` (TypeORM reads its `changes`).
      callback.call(this, error, rows);
    });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-task-size-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  recorder = new Recorder(new WriteQueue(dataSource), bus);
  countSubTaskRows(dataSource);
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('a push into a task of 2 000 devices loads only the sub-task it names', async () => {
  const devices = 2_000;
  await Promise.all(
    Array.from({ length: devices }, (_, i) => recorder.record(huaweiEnvelope({ operationId: 'big', deviceId: `d${i}`, status: UpgradeStatus.SENT }))),
  );
  loaded = 0;
  await recorder.record(huaweiEnvelope({ operationId: 'big', deviceId: 'd1500', status: UpgradeStatus.SUCCEEDED }));
  expect(loaded).toBe(1);
  loaded = 0;
  await recorder.record(huaweiEnvelope({ operationId: 'big', deviceId: 'new-device', status: UpgradeStatus.IN_PROGRESS, percent: 40 }));
  expect(loaded).toBe(0);
  // A burst of pushes committed together loads each named sub-task once.
  loaded = 0;
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => recorder.record(huaweiEnvelope({ operationId: 'big', deviceId: `d${i * 7}`, status: UpgradeStatus.FAILED }))),
  );
  expect(loaded).toBe(100);

  const task = await dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: 'big' });
  expect(task).toMatchObject({ status: UpgradeStatus.IN_PROGRESS, sentCount: devices - 101, succeededCount: 1, failedCount: 100, inProgressCount: 1 });
});

test('a DJI report about every device of its task loads that task\'s sub-tasks (a dock and its aircraft)', async () => {
  await recorder.record(djiEnvelope({ bid: 'dji-size', status: UpgradeStatus.IN_PROGRESS, percent: 10 }));
  loaded = 0;
  await recorder.record(djiEnvelope({ bid: 'dji-size', status: UpgradeStatus.IN_PROGRESS, percent: 20 }));
  expect(loaded).toBe(1);
});
