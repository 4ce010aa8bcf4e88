/**
 * What a reconciliation poll does to a sub-task (the recorder's `quiet`
 * observations): it counts only when it moves the device forward or names a
 * device never heard of, and otherwise writes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { advancesStatus, UpgradeKind, UpgradeStatus } from '../src/domain';
import { mapSubOperationStatus, parsePlatformTime, formatPlatformTime } from '../src/ingest/huawei/northbound/protocol';
import { observationOf } from '../src/ingest/huawei/northbound/reconciler';
import type { UpgradeProgressMessage } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { ProgressEvent, UpgradeSubTask, UpgradeTask } from '../src/store/entities';
import { huaweiEnvelope } from './support/observations';

let dir: string;
let dataSource: DataSource;
let queue: WriteQueue;
let recorder: Recorder;
const published: UpgradeProgressMessage[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-huawei-poll-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  queue = new WriteQueue(dataSource);
  recorder = new Recorder(queue, { publishProgress: (m) => published.push(m), publishShadow: () => undefined });
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const taskOf = (externalId: string) => dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId });
const subTask = async (externalId: string, deviceId: string) =>
  dataSource.getRepository(UpgradeSubTask).findOneByOrFail({ taskId: (await taskOf(externalId)).id, deviceId });
const events = async (externalId: string) => dataSource.getRepository(ProgressEvent).countBy({ taskId: (await taskOf(externalId)).id });

/** One poll result for a device, through the recorder as the reconciler hands it. */
async function poll(operationId: string, deviceId: string, status: string): Promise<number> {
  const task = await taskOf(operationId);
  return queue.submit(async (tx) => {
    const observation = observationOf(task, { subOperationId: `sub-${deviceId}`, deviceId, status });
    const messages = await recorder.applyOwnObservationIn(tx, observation, new Date());
    return { result: messages.length };
  });
}

test('a poll that finds what is known writes nothing; one that moves the device forward writes one entry', async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'p-1', deviceId: 'd', status: UpgradeStatus.IN_PROGRESS, vendorStatus: 'downloading', step: 'downloading' }));
  const before = await subTask('p-1', 'd');
  expect(await poll('p-1', 'd', 'processing')).toBe(0);
  expect(await poll('p-1', 'd', 'wait')).toBe(0); // never backwards
  expect(await subTask('p-1', 'd')).toEqual(before); // not even "observed"
  expect(await events('p-1')).toBe(1);
  expect(await poll('p-1', 'd', 'success')).toBe(1);
  expect(await poll('p-1', 'd', 'success')).toBe(0);
  expect(await poll('p-1', 'd', 'fail')).toBe(0); // a terminal state is never left
  expect(await subTask('p-1', 'd')).toMatchObject({ status: UpgradeStatus.SUCCEEDED, vendorStatus: 'success' });
  expect(await events('p-1')).toBe(2);
  expect((await taskOf('p-1')).status).toBe(UpgradeStatus.SUCCEEDED);
});

test('a device the gateway never heard of is added', async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'p-2', deviceId: 'known', status: UpgradeStatus.IN_PROGRESS }));
  expect(await poll('p-2', 'unknown', 'wait')).toBe(1);
  expect(await subTask('p-2', 'unknown')).toMatchObject({ status: UpgradeStatus.PENDING, externalId: 'sub-unknown' });
});

test("a platform outcome replaces the stale sweeper's TIMED_OUT; a platform 'processing' does not reopen it", async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'p-3', deviceId: 'd', status: UpgradeStatus.IN_PROGRESS }));
  await recorder.closeStaleSubTasks({ noNewsSince: new Date(Date.now() + 1000), limit: 10, describe: () => 'no news' });
  expect(await subTask('p-3', 'd')).toMatchObject({ status: UpgradeStatus.TIMED_OUT, closedByStaleSweep: true });
  expect(await poll('p-3', 'd', 'processing')).toBe(0);
  expect(await poll('p-3', 'd', 'success')).toBe(1);
  expect(await subTask('p-3', 'd')).toMatchObject({ status: UpgradeStatus.SUCCEEDED, closedByStaleSweep: false });
});

test('status words and times', () => {
  expect(['wait', 'processing', 'success', 'fail', 'stop', 'timeout', 'odd'].map(mapSubOperationStatus)).toEqual([
    UpgradeStatus.PENDING,
    UpgradeStatus.IN_PROGRESS,
    UpgradeStatus.SUCCEEDED,
    UpgradeStatus.FAILED,
    UpgradeStatus.CANCELED,
    UpgradeStatus.TIMED_OUT,
    null,
  ]);
  const at = new Date('2026-11-26T01:02:03.000Z');
  expect(formatPlatformTime(at)).toBe('20261126T010203Z');
  expect(parsePlatformTime('20261126T010203Z')).toEqual(at);
  expect(advancesStatus({ status: UpgradeStatus.PENDING }, UpgradeStatus.IN_PROGRESS)).toBe(true);
  expect(advancesStatus({ status: UpgradeStatus.IN_PROGRESS }, UpgradeStatus.IN_PROGRESS)).toBe(false);
  expect(UpgradeKind.SOFTWARE).toBe('SOFTWARE');
});
