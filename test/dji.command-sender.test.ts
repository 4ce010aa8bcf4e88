/**
 * The DJI command sender on its own, with a controlled clock, a switchable
 * "connected" and a fake publish: when sends are made and counted, and that
 * two instances on one database resend a command exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { UpgradeStatus } from '../src/domain';
import { DjiCommandSender } from '../src/ingest/dji/command-sender';
import type { Clock } from '../src/recorder/clock';
import type { UpgradeProgressMessage } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { OutboundCommand, OutboundCommandStatus, UpgradeSubTask, UpgradeTask } from '../src/store/entities';
import { eventually, sleep } from './support/gateway';

const TIMEOUT_MS = 1000;
const SCAN_MS = 10;

class ManualClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/** One gateway instance's worth of sender: its own connection, writer, recorder and outbox. */
interface Instance {
  readonly dataSource: DataSource;
  readonly recorder: Recorder;
  readonly sender: DjiCommandSender;
  readonly published: { topic: string; json: any }[];
  readonly progress: UpgradeProgressMessage[];
  connected: boolean;
}

let dir: string;
const instances: Instance[] = [];
let clock: ManualClock;

async function instance(sendAttempts = 3): Promise<Instance> {
  const dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'gateway.sqlite') });
  const queue = new WriteQueue(dataSource);
  const progress: UpgradeProgressMessage[] = [];
  const recorder = new Recorder(queue, { publishProgress: (m) => progress.push(m), publishShadow: () => undefined }, { clock });
  const published: Instance['published'] = [];
  const self: Instance = {
    dataSource,
    recorder,
    published,
    progress,
    connected: true,
    sender: new DjiCommandSender({
      queue,
      recorder,
      clock,
      logger: pino({ level: 'silent' }),
      replyTimeoutMs: TIMEOUT_MS,
      sendAttempts,
      scanIntervalMs: SCAN_MS,
      connected: () => self.connected,
      publish: async (topic, payload) => {
        published.push({ topic, json: JSON.parse(payload) });
      },
    }),
  };
  recorder.setReplyCorrelator(self.sender);
  self.sender.run();
  instances.push(self);
  return self;
}

const request = {
  gatewaySn: 'DOCK-UNIT',
  devices: [
    {
      sn: 'DOCK-UNIT',
      productVersion: '10.01.3202',
      fileUrl: 'https://oss.example/fw/dock.zip',
      md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
      fileSize: 2 ** 40,
      fileName: 'dock.zip',
      firmwareUpgradeType: 'PSDK',
    },
  ],
};

function commandOf(i: Instance, taskId: string): Promise<OutboundCommand> {
  return i.dataSource.getRepository(OutboundCommand).findOneByOrFail({ taskId });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-dji-sender-'));
  clock = new ManualClock(Date.parse('2026-01-01T00:00:00.000Z'));
});
afterEach(async () => {
  for (const i of instances.splice(0)) {
    await i.sender.stop();
    await i.dataSource.destroy();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('start stores task, sub-task and command in one go and publishes ota_create after the commit', async () => {
  const a = await instance();
  const task = await a.sender.start(request);
  expect(task).toMatchObject({ source: 'DJI', kind: 'FIRMWARE', gatewaySn: 'DOCK-UNIT', status: UpgradeStatus.PENDING });
  expect(await a.dataSource.getRepository(UpgradeTask).countBy({ id: task.id })).toBe(1);
  expect(await a.dataSource.getRepository(UpgradeSubTask).findOneByOrFail({ taskId: task.id })).toMatchObject({
    deviceId: 'DOCK-UNIT',
    status: UpgradeStatus.PENDING,
    targetVersion: '10.01.3202',
    fileSize: 2 ** 40,
    firmwareUpgradeType: 'PSDK',
  });
  const row = await commandOf(a, task.id);
  expect(row).toMatchObject({
    method: 'ota_create',
    bid: task.externalId,
    attempts: 1,
    maxAttempts: 3,
    status: OutboundCommandStatus.PENDING,
    payload: { devices: [expect.objectContaining({ sn: 'DOCK-UNIT', fileSize: 2 ** 40 })] },
  });
  expect(row.nextAttemptAt.getTime()).toBe(clock.now().getTime() + TIMEOUT_MS);
  await eventually(() => a.published.length === 1);
  expect(a.published[0].topic).toBe('thing/product/DOCK-UNIT/services');
  expect(a.published[0].json).toMatchObject({ bid: task.externalId, tid: row.tid, timestamp: clock.now().getTime() });
  expect(a.published[0].json.data.devices[0]).toMatchObject({ file_size: 2 ** 40, firmware_upgrade_type: 4 });
});

test('invalid input: BAD_USER_INPUT, nothing stored', async () => {
  const a = await instance();
  await expect(a.sender.start({ ...request, gatewaySn: 'a/b' })).rejects.toMatchObject({
    extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'gatewaySn', message: expect.any(String) }] },
  });
  expect(await a.dataSource.getRepository(UpgradeTask).count()).toBe(0);
  expect(await a.dataSource.getRepository(OutboundCommand).count()).toBe(0);
  expect(a.published).toEqual([]);
});

test('while disconnected nothing is sent or counted; the first send goes out once connected', async () => {
  const a = await instance();
  a.connected = false;
  const task = await a.sender.start(request);
  let row = await commandOf(a, task.id);
  expect(row).toMatchObject({ attempts: 0, tid: null, tids: [], status: OutboundCommandStatus.PENDING });

  // Long past any window: still nothing, and no attempt burnt.
  clock.advance(10 * TIMEOUT_MS);
  await sleep(5 * SCAN_MS);
  expect(a.published).toEqual([]);
  expect((await commandOf(a, task.id)).attempts).toBe(0);

  a.connected = true;
  await eventually(() => a.published.length === 1);
  row = await commandOf(a, task.id);
  expect(row).toMatchObject({ attempts: 1, tid: a.published[0].json.tid, tids: [a.published[0].json.tid] });
  expect(row.nextAttemptAt.getTime()).toBe(clock.now().getTime() + TIMEOUT_MS);

  // A due resend waits for the connection too.
  a.connected = false;
  clock.advance(TIMEOUT_MS);
  await sleep(5 * SCAN_MS);
  expect(a.published).toHaveLength(1);
  a.connected = true;
  await eventually(() => a.published.length === 2);
  expect((await commandOf(a, task.id)).attempts).toBe(2);
});

test('two instances on one database: each resend and the time-out happen exactly once', async () => {
  const a = await instance();
  const b = await instance();
  const task = await a.sender.start(request);
  await eventually(() => a.published.length === 1);
  const all = () => [...a.published, ...b.published];

  for (const attempt of [2, 3]) {
    clock.advance(TIMEOUT_MS);
    await eventually(() => all().length === attempt, 10_000, `send ${attempt}`);
    // A few more scans of both: nobody sends it again.
    await sleep(5 * SCAN_MS);
    expect(all()).toHaveLength(attempt);
    expect((await commandOf(a, task.id)).attempts).toBe(attempt);
  }
  expect(new Set(all().map((m) => m.json.tid)).size).toBe(3);
  expect(new Set(all().map((m) => m.json.bid))).toEqual(new Set([task.externalId]));

  clock.advance(TIMEOUT_MS);
  await eventually(async () => (await commandOf(a, task.id)).status === OutboundCommandStatus.TIMED_OUT, 10_000, 'timed out');
  // The creation's PENDING event (published by a), then the one time-out.
  await eventually(() => a.progress.length + b.progress.length === 2, 10_000, 'the time-out recorded');
  await sleep(5 * SCAN_MS);
  const [created, timedOut] = [...a.progress, ...b.progress].sort((x, y) => Number(x.event.id) - Number(y.event.id));
  expect(created.event).toMatchObject({ status: UpgradeStatus.PENDING, applied: true });
  expect(a.progress.length + b.progress.length).toBe(2);
  expect(timedOut.event).toMatchObject({ status: UpgradeStatus.TIMED_OUT, statusDesc: 'no services_reply to ota_create after 3 sends', applied: true });
  expect(timedOut.event.occurredAt.getTime()).toBe(clock.now().getTime());
  expect(timedOut.task.status).toBe(UpgradeStatus.TIMED_OUT);
  expect(all()).toHaveLength(3);
});

test('acceptReply: any tid sent for a pending command of the task, once', async () => {
  const a = await instance();
  const task = await a.sender.start(request);
  await eventually(() => a.published.length === 1);
  clock.advance(TIMEOUT_MS);
  await eventually(() => a.published.length === 2);
  const [first, second] = a.published.map((m) => m.json.tid as string);
  await a.sender.stop();

  const accept = (tid: string) => a.dataSource.transaction((tx) => a.sender.acceptReply(tx, task, tid, clock.now()));
  expect(await accept('never-sent')).toBe(false);
  expect(await accept(first)).toBe(true);
  expect((await commandOf(a, task.id)).status).toBe(OutboundCommandStatus.ANSWERED);
  expect(await accept(second)).toBe(false);
  expect(await accept(first)).toBe(false);
});
