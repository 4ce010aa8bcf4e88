/**
 * A push costs the same in a task of 10 devices and one of 50 000: the
 * recorder reads the one sub-task a push names, never the task's others, and
 * takes the task's status and progress from its stored tally. Counted here as
 * the sub-task rows the recorder loads (a TypeORM subscriber sees every
 * entity loaded), not as time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { UpgradeStatus } from '../src/domain';
import type { EventBus } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { UpgradeSubTask, UpgradeTask } from '../src/store/entities';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

let dir: string;
let dataSource: DataSource;
let recorder: Recorder;
let loaded = 0;
const bus: EventBus = { publishProgress: () => undefined, publishShadow: () => undefined };
const counter: EntitySubscriberInterface<UpgradeSubTask> = {
  listenTo: () => UpgradeSubTask,
  afterLoad: () => void loaded++,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-task-size-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  recorder = new Recorder(new WriteQueue(dataSource), bus);
  dataSource.subscribers.push(counter);
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
