import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ShadowStatus, UpgradeSource, UpgradeStatus } from '../src/domain';
import type { EventBus, UpgradeProgressMessage } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { batchMemo, WriteQueue } from '../src/recorder/write-queue';
import { openDatabase, sqliteConnectionOf } from '../src/store/data-source';
import { InboundMessage, InboundOutcome, ProgressEvent, ShadowEvent, UpgradeSubTask, UpgradeTask } from '../src/store/entities';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

let dir: string;
let dataSource: DataSource;
let recorder: Recorder;
let queue: WriteQueue;
const published: UpgradeProgressMessage[] = [];
const shadows: ShadowEvent[] = [];
const bus: EventBus = { publishProgress: (m) => published.push(m), publishShadow: (s) => shadows.push(s) };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-recorder-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  queue = new WriteQueue(dataSource);
  recorder = new Recorder(queue, bus);
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  published.length = 0;
  shadows.length = 0;
});

const taskOf = (externalId: string) => dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId });
const subTasksOf = (taskId: string) => dataSource.getRepository(UpgradeSubTask).find({ where: { taskId }, order: { deviceId: 'ASC' } });
const eventsOf = (taskId: string) => dataSource.getRepository(ProgressEvent).find({ where: { taskId }, order: { id: 'ASC' } });

test('the first push creates the task and the sub-task, and publishes after commit', async () => {
  const result = await recorder.record(
    huaweiEnvelope({ operationId: 'create-1', deviceId: 'd1', status: UpgradeStatus.IN_PROGRESS, step: 'downloading', vendorStatus: 'downloading' }),
  );
  expect(result.outcome).toBe(InboundOutcome.RECORDED);
  const task = await taskOf('create-1');
  expect(task).toMatchObject({ source: UpgradeSource.HUAWEI, appId: 'app-1', status: UpgradeStatus.IN_PROGRESS });
  const [sub] = await subTasksOf(task.id);
  expect(sub).toMatchObject({ deviceId: 'd1', externalId: 'sub-d1', status: UpgradeStatus.IN_PROGRESS, step: 'downloading' });
  expect(published).toHaveLength(1);
  expect(published[0].event.id).toBe((await eventsOf(task.id))[0].id);
  expect(published[0].task.status).toBe(UpgradeStatus.IN_PROGRESS);
});

test('a message with a known dedupe key is recorded once; the repeat is kept in the ledger as a duplicate', async () => {
  const envelope = huaweiEnvelope({ operationId: 'dup-1', status: UpgradeStatus.IN_PROGRESS });
  const first = await recorder.record(envelope);
  const again = await recorder.record({ ...envelope, receivedAt: new Date() });
  expect(first.outcome).toBe(InboundOutcome.RECORDED);
  expect(again.outcome).toBe(InboundOutcome.DUPLICATE);
  const task = await taskOf('dup-1');
  expect(await eventsOf(task.id)).toHaveLength(1);
  const ledger = await dataSource.getRepository(InboundMessage).find({ where: { payload: envelope.raw } });
  expect(ledger.map((l) => l.outcome).sort()).toEqual([InboundOutcome.DUPLICATE, InboundOutcome.RECORDED]);
  expect(published).toHaveLength(1);
});

test('duplicates arriving in the same batch are still recorded once', async () => {
  const envelope = huaweiEnvelope({ operationId: 'dup-batch', status: UpgradeStatus.IN_PROGRESS });
  const results = await Promise.all([recorder.record(envelope), recorder.record(envelope), recorder.record(envelope)]);
  expect(results.map((r) => r.outcome).sort()).toEqual([InboundOutcome.DUPLICATE, InboundOutcome.DUPLICATE, InboundOutcome.RECORDED]);
  expect(await eventsOf((await taskOf('dup-batch')).id)).toHaveLength(1);
});

// Reports apply in arrival order: this test used to show a report older by the
// dock's clock being ignored, which froze upgrades of docks whose clock jumped
// back in a reboot. Only a late redelivery is held against the dock's clock.
test('a report older by the device clock applies in arrival order; a late redelivery older than the last applied moves nothing', async () => {
  const base = Date.now();
  await recorder.record(djiEnvelope({ bid: 'order-1', status: UpgradeStatus.IN_PROGRESS, percent: 60, occurredAt: new Date(base + 2000) }));
  await recorder.record(djiEnvelope({ bid: 'order-1', status: UpgradeStatus.PAUSED, percent: 30, occurredAt: new Date(base + 1000) }));
  await recorder.record(
    djiEnvelope({ bid: 'order-1', status: UpgradeStatus.IN_PROGRESS, percent: 20, occurredAt: new Date(base + 500), redelivered: true }),
  );
  const task = await taskOf('order-1');
  const [sub] = await subTasksOf(task.id);
  // The percent is the last applied one; the overall progress never goes back.
  expect(sub).toMatchObject({ status: UpgradeStatus.PAUSED, percent: 30, progress: 60 });
  const events = await eventsOf(task.id);
  expect(events.map((e) => [e.percent, e.applied, e.ignoredReason])).toEqual([
    [60, true, null],
    [30, true, null],
    [20, false, 'STALE'],
  ]);
  expect(published.map((m) => m.event.applied)).toEqual([true, true, false]);
});

test('a terminal sub-task is not reopened by a later observation', async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'term-1', status: UpgradeStatus.SUCCEEDED, vendorStatus: 'SUCCESS', currentVersion: '1.6' }));
  await recorder.record(huaweiEnvelope({ operationId: 'term-1', status: UpgradeStatus.IN_PROGRESS, vendorStatus: 'updating', step: 'updating' }));
  const task = await taskOf('term-1');
  const [sub] = await subTasksOf(task.id);
  expect(sub).toMatchObject({ status: UpgradeStatus.SUCCEEDED, vendorStatus: 'SUCCESS', currentVersion: '1.6', step: null });
  expect(task.status).toBe(UpgradeStatus.SUCCEEDED);
  expect((await eventsOf(task.id)).map((e) => [e.status, e.applied, e.ignoredReason])).toEqual([
    [UpgradeStatus.SUCCEEDED, true, null],
    [UpgradeStatus.SUCCEEDED, false, 'TERMINAL'],
  ]);
});

test('an observation without a status is history only', async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'idle-1', status: UpgradeStatus.IN_PROGRESS, step: 'downloading' }));
  await recorder.record(huaweiEnvelope({ operationId: 'idle-1', status: null, vendorStatus: 'idle' }));
  const task = await taskOf('idle-1');
  expect((await subTasksOf(task.id))[0].status).toBe(UpgradeStatus.IN_PROGRESS);
  expect((await eventsOf(task.id)).map((e) => e.ignoredReason)).toEqual([null, 'NO_STATUS']);
});

test("the task's status and progress are derived from its sub-tasks", async () => {
  await recorder.record(huaweiEnvelope({ operationId: 'derive-1', deviceId: 'a', status: UpgradeStatus.IN_PROGRESS, percent: 50 }));
  await recorder.record(huaweiEnvelope({ operationId: 'derive-1', deviceId: 'b', status: UpgradeStatus.PENDING }));
  let task = await taskOf('derive-1');
  expect(task).toMatchObject({ status: UpgradeStatus.IN_PROGRESS, progress: 25 });

  await recorder.record(huaweiEnvelope({ operationId: 'derive-1', deviceId: 'a', status: UpgradeStatus.SUCCEEDED }));
  await recorder.record(huaweiEnvelope({ operationId: 'derive-1', deviceId: 'b', status: UpgradeStatus.FAILED, errorCode: '7' }));
  task = await taskOf('derive-1');
  expect(task).toMatchObject({ status: UpgradeStatus.FAILED, progress: 50 });
  expect(published.at(-1)!.task).toMatchObject({ status: UpgradeStatus.FAILED, progress: 50 });
});

test('a DJI event applies to every sub-task of its task, and creates one for the gateway when the bid is new', async () => {
  await recorder.record(djiEnvelope({ bid: 'bid-new', gatewaySn: 'DOCK-9', status: UpgradeStatus.IN_PROGRESS, percent: 10 }));
  const task = await taskOf('bid-new');
  expect(task).toMatchObject({ source: UpgradeSource.DJI, gatewaySn: 'DOCK-9' });
  expect((await subTasksOf(task.id)).map((s) => s.deviceId)).toEqual(['DOCK-9']);

  // A second device joins (as createFirmwareUpgrade would create it); the next event reaches both.
  await recorder.record(huaweiEnvelope({ status: UpgradeStatus.PENDING }, {}));
  await dataSource.getRepository(UpgradeSubTask).insert({
    ...(await subTasksOf(task.id))[0],
    id: 'sub-aircraft',
    deviceId: 'AIRCRAFT-1',
    status: UpgradeStatus.PENDING,
    percent: null,
  });
  published.length = 0;
  await recorder.record(djiEnvelope({ bid: 'bid-new', gatewaySn: 'DOCK-9', status: UpgradeStatus.IN_PROGRESS, percent: 40 }));
  expect(published.map((m) => m.subTask.deviceId).sort()).toEqual(['AIRCRAFT-1', 'DOCK-9']);
  expect((await subTasksOf(task.id)).map((s) => s.percent)).toEqual([40, 40]);
});

test('shadow observations are stored whole and published', async () => {
  const properties = { 'Model Number': 1, 'Firmware Version': 'v1.1.0', nested: { a: [1, 2] } };
  await recorder.record({
    source: UpgradeSource.HUAWEI,
    channel: 'deviceDesiredPropertiesModifyStatusChanged',
    dedupeKey: 'shadow-1',
    raw: '{}',
    receivedAt: new Date(),
    content: {
      kind: 'observation',
      observation: { type: 'shadow', source: UpgradeSource.HUAWEI, deviceId: 'd-shadow', serviceId: 'Device', properties, status: ShadowStatus.DELIVERED },
    },
  });
  const stored = await dataSource.getRepository(ShadowEvent).findOneByOrFail({ deviceId: 'd-shadow' });
  expect(stored.properties).toEqual(properties);
  expect(shadows).toHaveLength(1);
});

test('unhandled and rejected messages are kept in the ledger and change nothing', async () => {
  const before = await dataSource.getRepository(UpgradeTask).count();
  const unhandled = await recorder.record({
    source: UpgradeSource.HUAWEI, channel: 'deviceDataChanged', dedupeKey: null, raw: '{"notifyType":"deviceDataChanged"}', receivedAt: new Date(),
    content: { kind: 'unhandled', reason: 'unhandled notifyType deviceDataChanged' },
  });
  const rejected = await recorder.record({
    source: UpgradeSource.DJI, channel: 'events', dedupeKey: null, raw: 'not json', receivedAt: new Date(),
    content: { kind: 'rejected', reason: 'payload is not JSON' },
  });
  expect([unhandled.outcome, rejected.outcome]).toEqual([InboundOutcome.UNHANDLED, InboundOutcome.REJECTED]);
  expect(await dataSource.getRepository(UpgradeTask).count()).toBe(before);
  const row = await dataSource.getRepository(InboundMessage).findOneByOrFail({ payload: 'not json' });
  expect(row).toMatchObject({ outcome: InboundOutcome.REJECTED, reason: 'payload is not JSON' });
});

test('a unit that fails rolls back alone; the rest of its batch commits', async () => {
  const good = huaweiEnvelope({ operationId: 'batch-good', status: UpgradeStatus.IN_PROGRESS });
  const failing = queue.submit(async (tx) => {
    await tx.insert(UpgradeTask, { id: 'half-written', source: UpgradeSource.DJI, kind: 'FIRMWARE' as never, externalId: 'half', appId: null, gatewaySn: null, status: UpgradeStatus.PENDING, progress: null, createdAt: new Date(), updatedAt: new Date() });
    throw new Error('boom');
  });
  const [failed, recorded] = await Promise.allSettled([failing, recorder.record(good)]);
  expect(failed.status).toBe('rejected');
  expect(recorded.status).toBe('fulfilled');
  expect(await dataSource.getRepository(UpgradeTask).findOneBy({ id: 'half-written' })).toBeNull();
  expect(await taskOf('batch-good')).toBeTruthy();
});

test('a deferred write that fails when the batch writes its rows rolls back its own unit alone', async () => {
  const before = huaweiEnvelope({ operationId: 'deferred-before', status: UpgradeStatus.IN_PROGRESS });
  const after = huaweiEnvelope({ operationId: 'deferred-after', status: UpgradeStatus.IN_PROGRESS });
  // Like a key another instance took meanwhile: the unit itself succeeds, its write at the end of the batch does not.
  const failing = queue.submit(
    async (tx) => {
      const refused = { sql: 'INSERT INTO no_such_table (id) VALUES (1)', parameters: [], generatedKey: null };
      batchMemo(tx).set('test:refused', { takeWrites: () => ({ statements: [refused] }) });
      return { result: 'unit done' };
    },
    { deferring: true },
  );
  const settled = await Promise.allSettled([recorder.record(before), failing, recorder.record(after)]);
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(await taskOf('deferred-before')).toBeTruthy();
  expect(await taskOf('deferred-after')).toBeTruthy();
  expect(published.map((m) => m.task.externalId)).toEqual(['deferred-before', 'deferred-after']);
});

test('when storage fails, the promise rejects and nothing is published', async () => {
  const broken = await openDatabase({ engine: 'sqlite', path: join(dir, 'broken.sqlite') });
  const brokenRecorder = new Recorder(new WriteQueue(broken), bus);
  await broken.query('DROP TABLE progress_event');
  await expect(brokenRecorder.record(huaweiEnvelope({ operationId: 'lost', status: UpgradeStatus.IN_PROGRESS }))).rejects.toThrow();
  expect(published).toHaveLength(0);
  expect(await broken.getRepository(UpgradeTask).count()).toBe(0);
  await broken.destroy();
});

test('a transaction left open on the writer connection fails the next batch whole; the batch after it commits', async () => {
  // What a ROLLBACK that could not run would leave behind: the next batch's BEGIN fails (src/store/sqlite-transaction.ts).
  await new Promise<void>((resolve, reject) => sqliteConnectionOf(dataSource).exec('BEGIN', (e) => (e ? reject(e) : resolve())));
  const envelope = huaweiEnvelope({ operationId: 'left-open', status: UpgradeStatus.IN_PROGRESS });
  await expect(recorder.record(envelope)).rejects.toThrow(/within a transaction/);
  expect(published).toHaveLength(0);
  expect(await dataSource.getRepository(UpgradeTask).findOneBy({ externalId: 'left-open' })).toBeNull();
  // The sender redelivers what was not acknowledged: now it is recorded, once.
  expect((await recorder.record({ ...envelope, receivedAt: new Date() })).outcome).toBe(InboundOutcome.RECORDED);
  expect(await eventsOf((await taskOf('left-open')).id)).toHaveLength(1);
  expect(published).toHaveLength(1);
});

test('a burst on one task in one batch: every event stored, state as if one by one', async () => {
  const base = Date.UTC(2026, 2, 1);
  const burst = Array.from({ length: 20 }, (_, i) =>
    djiEnvelope({ bid: 'burst-1', status: UpgradeStatus.IN_PROGRESS, percent: i * 5, occurredAt: new Date(base + i * 1000) }),
  );
  // One unit in the middle fails: the batch is run again carefully, the rest still commits.
  const failing = queue.submit(async () => {
    throw new Error('boom');
  });
  const results = await Promise.all([...burst.slice(0, 10).map((e) => recorder.record(e)), failing.catch(() => 'failed'), ...burst.slice(10).map((e) => recorder.record(e))]);
  expect(results.filter((r) => r === 'failed')).toHaveLength(1);
  const task = await taskOf('burst-1');
  const [sub] = await subTasksOf(task.id);
  expect(sub.percent).toBe(95);
  expect(task.progress).toBe(95);
  expect((await eventsOf(task.id)).map((e) => e.percent)).toEqual(burst.map((_, i) => i * 5));
  expect(published.filter((m) => m.task.externalId === 'burst-1').map((m) => m.event.percent)).toEqual(burst.map((_, i) => i * 5));
});

test('whenRoom waits until fewer than the limit wait for the writer', async () => {
  const own = new WriteQueue(dataSource);
  expect(await Promise.race([own.whenRoom(2).then(() => 'room'), new Promise((r) => setTimeout(() => r('wait'), 50))])).toBe('room');
  const units = Array.from({ length: 5 }, () => own.submit(async () => ({ result: 1 })));
  expect(own.depth).toBe(5);
  let roomAt = -1;
  const room = own.whenRoom(2).then(() => (roomAt = own.depth));
  await Promise.all([...units, room]);
  // Woken once the batch was taken off the queue, not before.
  expect(roomAt).toBe(0);
});

test('whenRoom wakes waiters first come, first served, only as many as there is room for', async () => {
  const own = new WriteQueue(dataSource);
  const limit = 3;
  const woken: number[] = [];
  const depthsWhenWoken: number[] = [];
  // The writer's backlog is full: whoever comes now waits.
  const backlog = Array.from({ length: limit }, () => own.submit(async () => ({ result: -1 })));
  const producers = Array.from({ length: 10 }, (_, i) =>
    own.whenRoom(limit).then(() => {
      woken.push(i);
      depthsWhenWoken.push(own.depth);
      // What a producer does once woken: queue its unit (the MQTT handler records the message).
      return own.submit(async () => ({ result: i }));
    }),
  );
  expect(woken).toEqual([]);
  expect(await Promise.all(producers)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  await Promise.all(backlog);
  expect(woken).toEqual(Array.from({ length: 10 }, (_, i) => i));
  expect(Math.max(...depthsWhenWoken)).toBeLessThan(limit);
});
