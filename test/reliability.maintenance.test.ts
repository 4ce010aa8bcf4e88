import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { UpgradeSource, UpgradeStatus, isStale, staleReason } from '../src/domain';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { LedgerPruner, StaleSweeper, defaultSweepInterval } from '../src/maintenance';
import type { Clock } from '../src/recorder/clock';
import type { EventBus, UpgradeProgressMessage } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import {
  InboundMessage,
  InboundOutcome,
  OutboundCommand,
  OutboundCommandStatus,
  ProgressEvent,
  UpgradeSubTask,
  UpgradeTask,
} from '../src/store/entities';
import { collect, eventually, startTestGateway, subscriptionsRunning } from './support/gateway';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

const silent = pino({ level: 'silent' });
const MIN = 60_000;
const STALE_AFTER = 20 * MIN;

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  set(at: Date | number): void {
    this.at = typeof at === 'number' ? at : at.getTime();
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

let dir: string;
let dataSource: DataSource;
let queue: WriteQueue;
let recorder: Recorder;
let clock: ManualClock;
const published: UpgradeProgressMessage[] = [];
const bus: EventBus = { publishProgress: (m) => published.push(m), publishShadow: () => undefined };
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-maint-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  queue = new WriteQueue(dataSource);
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  // Every test starts from an empty database and a fresh clock.
  for (const table of ['progress_event', 'outbound_command', 'upgrade_sub_task', 'upgrade_task', 'inbound_message']) {
    await dataSource.query(`DELETE FROM ${table}`);
  }
  clock = new ManualClock(T0);
  recorder = new Recorder(queue, bus, { clock });
  published.length = 0;
});

const at = (offsetMs: number) => new Date(T0 + offsetMs);
const sweeper = (options: Partial<ConstructorParameters<typeof StaleSweeper>[0]> = {}) =>
  new StaleSweeper({ recorder, clock, logger: silent, staleAfterMs: STALE_AFTER, ...options });
const subTaskOf = async (externalId: string, deviceId?: string) => {
  const task = await dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId });
  const subs = await dataSource.getRepository(UpgradeSubTask).find({ where: { taskId: task.id } });
  return { task, sub: deviceId ? subs.find((s) => s.deviceId === deviceId)! : subs[0], subs };
};
const eventsOf = (taskId: string) => dataSource.getRepository(ProgressEvent).find({ where: { taskId }, order: { id: 'ASC' } });

describe('the stale rule (domain)', () => {
  it('is open status and no news since the cutoff, PENDING included, on the gateway clock', () => {
    const cutoff = at(0);
    for (const status of Object.values(UpgradeStatus)) {
      const open = ![UpgradeStatus.SUCCEEDED, UpgradeStatus.FAILED, UpgradeStatus.CANCELED, UpgradeStatus.REJECTED, UpgradeStatus.TIMED_OUT].includes(status);
      expect(isStale({ status, lastObservedAt: at(-1) }, cutoff)).toBe(open);
      expect(isStale({ status, lastObservedAt: at(0) }, cutoff)).toBe(false);
    }
    expect(staleReason(at(-5 * MIN), STALE_AFTER)).toMatch(/no news of this upgrade for 20 min \(last at 2026-01-01T11:55:00.000Z\)/);
  });

  it('the sweep interval is a quarter of STALE_AFTER_MS, within 100 ms..30 s', () => {
    expect(defaultSweepInterval(20 * MIN)).toBe(30_000);
    expect(defaultSweepInterval(60_000)).toBe(15_000);
    expect(defaultSweepInterval(100)).toBe(100);
  });
});

describe('stale sweeper', () => {
  it('times out open sub-tasks with no news for STALE_AFTER_MS, through the recorder: history, task status, published after commit', async () => {
    await recorder.record(huaweiEnvelope({ operationId: 'stale-1', deviceId: 'd1', status: UpgradeStatus.IN_PROGRESS, step: 'downloading', percent: 40 }, { receivedAt: at(0) }));
    await recorder.record(huaweiEnvelope({ operationId: 'stale-1', deviceId: 'd2', status: UpgradeStatus.SUCCEEDED }, { receivedAt: at(0) }));
    await recorder.record(huaweiEnvelope({ operationId: 'fresh-1', deviceId: 'd3', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(10 * MIN) }));
    await recorder.record(huaweiEnvelope({ operationId: 'pending-1', deviceId: 'd4', status: UpgradeStatus.PENDING }, { receivedAt: at(0) }));
    published.length = 0;

    clock.set(at(STALE_AFTER)); // exactly STALE_AFTER_MS: not yet
    expect(await sweeper().sweepOnce()).toBe(0);

    clock.set(at(STALE_AFTER + 1));
    expect(await sweeper().sweepOnce()).toBe(2);

    const { task, sub, subs } = await subTaskOf('stale-1', 'd1');
    expect(sub).toMatchObject({ status: UpgradeStatus.TIMED_OUT, closedByStaleSweep: true, percent: 40, step: 'downloading' });
    expect(sub.statusDesc).toMatch(/no news of this upgrade for 20 min .*stale sweeper/);
    // News times are left alone: they are what a later real observation is compared with.
    expect(sub.lastObservedAt).toEqual(at(0));
    expect(subs.find((s) => s.deviceId === 'd2')!.status).toBe(UpgradeStatus.SUCCEEDED);
    expect(task.status).toBe(UpgradeStatus.TIMED_OUT);
    const events = await eventsOf(task.id);
    expect(events.at(-1)).toMatchObject({ status: UpgradeStatus.TIMED_OUT, reportedStatus: UpgradeStatus.TIMED_OUT, applied: true, statusDesc: sub.statusDesc });
    expect(events.at(-1)!.receivedAt).toEqual(at(STALE_AFTER + 1));

    expect((await subTaskOf('pending-1')).sub).toMatchObject({ status: UpgradeStatus.TIMED_OUT, closedByStaleSweep: true });
    expect((await subTaskOf('fresh-1')).sub.status).toBe(UpgradeStatus.IN_PROGRESS);

    expect(published.map((m) => [m.task.externalId, m.subTask.deviceId, m.event.status, m.task.status]).sort()).toEqual([
      ['pending-1', 'd4', UpgradeStatus.TIMED_OUT, UpgradeStatus.TIMED_OUT],
      ['stale-1', 'd1', UpgradeStatus.TIMED_OUT, UpgradeStatus.TIMED_OUT],
    ]);

    // A second sweep finds nothing more: terminal now.
    clock.advance(STALE_AFTER);
    expect(await sweeper().sweepOnce()).toBe(1); // fresh-1 has gone stale by now
    expect(await sweeper().sweepOnce()).toBe(0);
  });

  it('a later real report reopens a swept sub-task; a late redelivery older than the last applied does not', async () => {
    // Arrival order decides; the dock's clock only for a message its transport marks as redelivered
    // (this test used to show any report older by the dock's clock being ignored: that rule froze upgrades).
    await recorder.record(djiEnvelope({ bid: 'reopen-1', status: UpgradeStatus.IN_PROGRESS, percent: 30, occurredAt: at(0) }, { receivedAt: at(0) }));
    clock.set(at(STALE_AFTER + MIN));
    expect(await sweeper().sweepOnce()).toBe(1);

    await recorder.record(
      djiEnvelope({ bid: 'reopen-1', status: UpgradeStatus.IN_PROGRESS, percent: 10, occurredAt: at(-MIN), redelivered: true }, { receivedAt: at(STALE_AFTER + 2 * MIN) }),
    );
    let { sub } = await subTaskOf('reopen-1');
    expect(sub).toMatchObject({ status: UpgradeStatus.TIMED_OUT, closedByStaleSweep: true, percent: 30 });

    await recorder.record(djiEnvelope({ bid: 'reopen-1', status: UpgradeStatus.IN_PROGRESS, percent: 70, occurredAt: at(STALE_AFTER + 3 * MIN) }, { receivedAt: at(STALE_AFTER + 3 * MIN) }));
    ({ sub } = await subTaskOf('reopen-1'));
    expect(sub).toMatchObject({ status: UpgradeStatus.IN_PROGRESS, closedByStaleSweep: false, percent: 70, statusDesc: null });
    const { task } = await subTaskOf('reopen-1');
    expect(task.status).toBe(UpgradeStatus.IN_PROGRESS);
    expect((await eventsOf(task.id)).map((e) => [e.reportedStatus, e.status, e.applied, e.ignoredReason])).toEqual([
      [UpgradeStatus.IN_PROGRESS, UpgradeStatus.IN_PROGRESS, true, null],
      [UpgradeStatus.TIMED_OUT, UpgradeStatus.TIMED_OUT, true, null],
      [UpgradeStatus.IN_PROGRESS, UpgradeStatus.TIMED_OUT, false, 'STALE'],
      [UpgradeStatus.IN_PROGRESS, UpgradeStatus.IN_PROGRESS, true, null],
    ]);

    // Reopened, it goes stale again after another quiet STALE_AFTER_MS, and then can still end for real.
    clock.set(at(2 * STALE_AFTER + 4 * MIN));
    expect(await sweeper().sweepOnce()).toBe(1);
    await recorder.record(djiEnvelope({ bid: 'reopen-1', status: UpgradeStatus.SUCCEEDED, percent: 100, occurredAt: at(2 * STALE_AFTER + 5 * MIN) }));
    ({ sub } = await subTaskOf('reopen-1'));
    expect(sub).toMatchObject({ status: UpgradeStatus.SUCCEEDED, closedByStaleSweep: false });
  });

  it('a reported TIMED_OUT (the dock said so) is final, unlike the sweeper\'s', async () => {
    await recorder.record(djiEnvelope({ bid: 'reported-1', status: UpgradeStatus.TIMED_OUT, occurredAt: at(0) }, { receivedAt: at(0) }));
    await recorder.record(djiEnvelope({ bid: 'reported-1', status: UpgradeStatus.IN_PROGRESS, occurredAt: at(MIN) }, { receivedAt: at(MIN) }));
    expect((await subTaskOf('reported-1')).sub).toMatchObject({ status: UpgradeStatus.TIMED_OUT, closedByStaleSweep: false });
  });

  it('leaves a task whose command still waits to be sent or answered to the command sender', async () => {
    await recorder.record(djiEnvelope({ bid: 'cmd-1', status: UpgradeStatus.PENDING }, { receivedAt: at(0) }));
    const { task } = await subTaskOf('cmd-1');
    const command: OutboundCommand = {
      id: randomUUID(),
      taskId: task.id,
      gatewaySn: 'DOCK-1',
      method: 'ota_create',
      bid: 'cmd-1',
      tid: null,
      tids: [],
      payload: { devices: [] },
      attempts: 0,
      maxAttempts: 3,
      status: OutboundCommandStatus.PENDING,
      nextAttemptAt: at(0),
      createdAt: at(0),
      updatedAt: at(0),
    };
    await dataSource.getRepository(OutboundCommand).insert(command as never);
    clock.set(at(2 * STALE_AFTER));
    expect(await sweeper().sweepOnce()).toBe(0);
    await dataSource.getRepository(OutboundCommand).update({ id: command.id }, { status: OutboundCommandStatus.TIMED_OUT });
    expect(await sweeper().sweepOnce()).toBe(1);
  });

  it('does not sweep a source it cannot hear, nor at the first sweep after it came back', async () => {
    await recorder.record(djiEnvelope({ bid: 'deaf-1', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(0) }));
    await recorder.record(huaweiEnvelope({ operationId: 'hw-1', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(0) }));
    let connected = false;
    const s = sweeper({ listening: { [UpgradeSource.DJI]: () => connected } });
    clock.set(at(STALE_AFTER + MIN));
    expect(await s.sweepOnce()).toBe(1); // Huawei only
    expect((await subTaskOf('deaf-1')).sub.status).toBe(UpgradeStatus.IN_PROGRESS);
    connected = true;
    expect(await s.sweepOnce()).toBe(0); // back, but what the broker kept may still be on its way
    expect(await s.sweepOnce()).toBe(1);
    expect((await subTaskOf('deaf-1')).sub.status).toBe(UpgradeStatus.TIMED_OUT);
  });

  it('closes any number of stale sub-tasks in bounded batches', async () => {
    const n = 57;
    for (let i = 0; i < n; i++) {
      await recorder.record(huaweiEnvelope({ operationId: `many-${i}`, status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(i) }));
    }
    clock.set(at(STALE_AFTER + MIN));
    expect(await sweeper({ batchSize: 10, maxBatchesPerSweep: 3 }).sweepOnce()).toBe(30); // the rest waits for the next sweep
    expect(await sweeper({ batchSize: 10 }).sweepOnce()).toBe(n - 30);
    const open = await dataSource.getRepository(UpgradeSubTask).countBy({ status: UpgradeStatus.IN_PROGRESS });
    expect(open).toBe(0);
  });

  it('runs on its timer until stopped, and a failing sweep does not stop it', async () => {
    await recorder.record(huaweiEnvelope({ operationId: 'timer-1', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(0) }));
    const errors: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    let fail = true;
    const flaky = {
      closeStaleSubTasks: (...args: Parameters<Recorder['closeStaleSubTasks']>) => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error('storage down'));
        }
        return recorder.closeStaleSubTasks(...args);
      },
    } as unknown as Recorder;
    const s = new StaleSweeper({ recorder: flaky, clock, logger, staleAfterMs: STALE_AFTER, intervalMs: 10 });
    clock.set(at(STALE_AFTER + MIN));
    s.run();
    try {
      await eventually(async () => (await subTaskOf('timer-1')).sub.status === UpgradeStatus.TIMED_OUT, 5000, 'the timed sweep');
    } finally {
      await s.stop();
    }
    expect(errors.join('')).toMatch(/stale sweep failed/);
    // Stopped: nothing more happens.
    await recorder.record(huaweiEnvelope({ operationId: 'timer-2', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(0) }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await subTaskOf('timer-2')).sub.status).toBe(UpgradeStatus.IN_PROGRESS);
  });
});

describe('ledger retention', () => {
  const DAY = 24 * 60 * MIN;
  const pruner = (options: Partial<ConstructorParameters<typeof LedgerPruner>[0]> = {}) =>
    new LedgerPruner({ queue, clock, logger: silent, retentionDays: 30, ...options });

  it('deletes ledger rows older than LEDGER_RETENTION_DAYS in batches, and nothing else', async () => {
    // 25 messages 40 days old, 5 of them duplicates; 10 from yesterday.
    for (let i = 0; i < 20; i++) {
      const envelope = huaweiEnvelope({ operationId: 'old-op', deviceId: `d${i}`, status: UpgradeStatus.SUCCEEDED }, { receivedAt: at(-40 * DAY + i) });
      await recorder.record(envelope);
      if (i < 5) await recorder.record({ ...envelope, receivedAt: at(-40 * DAY + 100 + i) });
    }
    for (let i = 0; i < 10; i++) {
      await recorder.record(huaweiEnvelope({ operationId: 'new-op', deviceId: `d${i}`, status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(-DAY) }));
    }
    const counts = async () => ({
      ledger: await dataSource.getRepository(InboundMessage).count(),
      tasks: await dataSource.getRepository(UpgradeTask).count(),
      subTasks: await dataSource.getRepository(UpgradeSubTask).count(),
      events: await dataSource.getRepository(ProgressEvent).count(),
    });
    expect(await counts()).toEqual({ ledger: 35, tasks: 2, subTasks: 30, events: 30 });

    expect(await pruner({ batchSize: 7 }).pruneOnce()).toBe(25);
    expect(await counts()).toEqual({ ledger: 10, tasks: 2, subTasks: 30, events: 30 });
    const left = await dataSource.getRepository(InboundMessage).find();
    expect(left.every((row) => row.receivedAt.getTime() >= at(-30 * DAY).getTime())).toBe(true);
    expect(await pruner().pruneOnce()).toBe(0);

    // Exactly at the cutoff is kept; a millisecond older is not.
    await recorder.record(huaweiEnvelope({ operationId: 'edge', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(-30 * DAY) }));
    await recorder.record(huaweiEnvelope({ operationId: 'edge', deviceId: 'x', status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(-30 * DAY - 1) }));
    expect(await pruner().pruneOnce()).toBe(1);
  });

  it('a pruned dedupe key no longer deduplicates (documented); the state rules still keep an ended sub-task ended', async () => {
    const old = huaweiEnvelope({ operationId: 'redo', status: UpgradeStatus.IN_PROGRESS, step: 'downloading' }, { receivedAt: at(-40 * DAY) });
    await recorder.record(old);
    await recorder.record(huaweiEnvelope({ operationId: 'redo', status: UpgradeStatus.SUCCEEDED }, { receivedAt: at(-40 * DAY + MIN) }));
    expect(await pruner().pruneOnce()).toBe(2);
    const again = await recorder.record({ ...old, receivedAt: at(0) });
    expect(again.outcome).toBe(InboundOutcome.RECORDED);
    expect(again.progress[0].event).toMatchObject({ applied: false, ignoredReason: 'TERMINAL' });
    expect((await subTaskOf('redo')).sub.status).toBe(UpgradeStatus.SUCCEEDED);
  });

  it('prunes at start, then on its timer, until stopped; bounded per run', async () => {
    for (let i = 0; i < 12; i++) {
      await recorder.record(huaweiEnvelope({ operationId: `t-${i}`, status: UpgradeStatus.IN_PROGRESS }, { receivedAt: at(-31 * DAY) }));
    }
    const p = pruner({ batchSize: 5, maxBatchesPerRun: 1, intervalMs: 10 });
    p.run();
    try {
      await eventually(async () => (await dataSource.getRepository(InboundMessage).count()) === 0, 5000, 'the ledger pruned');
    } finally {
      await p.stop();
    }
  });
});

describe('in the running gateway', () => {
  it('a push that goes quiet is timed out, published on upgradeProgress, and reopened by a newer push', async () => {
    // The sweeper runs on the injected clock (a minute behind until the test moves it); pushes are stamped with the real time.
    let offset = -60_000;
    const gateway = await startTestGateway({ STALE_AFTER_MS: '400' }, { clock: { now: () => new Date(Date.now() + offset) } });
    try {
      const push = (step: string, stepDesc: string) =>
        fetch(`${gateway.url}${HUAWEI_CALLBACK_PATH}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ notifyType: 'fwUpgradeStateChangeNotify', deviceId: 'dev-e2e', appId: 'app', operationId: 'op-e2e', subOperationId: 'sub-e2e', step, stepDesc }),
        });
      expect((await push('1', 'downloading')).status).toBe(200);
      const client = gateway.ws();
      const stream = collect<{ upgradeProgress: { event: { status: string; applied: boolean; statusDesc: string | null }; task: { status: string } } }>(
        client,
        'subscription { upgradeProgress { event { status applied statusDesc } task { status } } }',
      );
      await subscriptionsRunning(gateway, 1);
      offset = 10 * 60_000; // ten minutes later, as far as the gateway can tell
      await stream.until(1, 10_000);
      expect(stream.received[0].upgradeProgress).toMatchObject({ event: { status: 'TIMED_OUT', applied: true }, task: { status: 'TIMED_OUT' } });
      expect(stream.received[0].upgradeProgress.event.statusDesc).toMatch(/stale sweeper/);

      expect((await push('3', 'updating')).status).toBe(200);
      await stream.until(2, 10_000);
      expect(stream.received[1].upgradeProgress).toMatchObject({ event: { status: 'IN_PROGRESS', applied: true }, task: { status: 'IN_PROGRESS' } });
      const sub = await gateway.dataSource.getRepository(UpgradeSubTask).findOneByOrFail({ deviceId: 'dev-e2e' });
      expect(sub).toMatchObject({ status: UpgradeStatus.IN_PROGRESS, closedByStaleSweep: false, step: 'updating' });
      stream.unsubscribe();
    } finally {
      await gateway.stop();
    }
  });

  it('prunes the ledger at start', async () => {
    const dbDir = mkdtempSync(join(tmpdir(), 'ota-prune-start-'));
    try {
      const ds = await openDatabase({ engine: 'sqlite', path: join(dbDir, 'gateway.sqlite') });
      const r = new Recorder(new WriteQueue(ds), bus);
      await r.record(huaweiEnvelope({ operationId: 'ancient', status: UpgradeStatus.SUCCEEDED }, { receivedAt: new Date(Date.now() - 31 * 86_400_000) }));
      await r.record(huaweiEnvelope({ operationId: 'recent', status: UpgradeStatus.SUCCEEDED }, { receivedAt: new Date(Date.now() - 29 * 86_400_000) }));
      await ds.destroy();
      const gateway = await startTestGateway({}, { dir: dbDir });
      try {
        const ledger = gateway.dataSource.getRepository(InboundMessage);
        await eventually(async () => (await ledger.count()) === 1, 10_000, 'the old ledger row pruned');
        expect(await gateway.dataSource.getRepository(UpgradeTask).count()).toBe(2);
      } finally {
        await gateway.stop();
      }
    } finally {
      rmSync(dbDir, { recursive: true, force: true });
    }
  });
});
