/**
 * ota_create resends through the real gateway: no services_reply within
 * DJI_REPLY_TIMEOUT_MS means a new tid with the same bid, up to
 * DJI_SEND_ATTEMPTS sends, then TIMED_OUT; pending sends survive a restart.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Clock } from '../src/recorder/clock';
import { InboundMessage, InboundOutcome, OutboundCommand, OutboundCommandStatus, UpgradeTask } from '../src/store/entities';
import { Dock } from './fixtures/dji/dock';
import { collect, eventually, sleep, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { firmwareDevice } from './fixtures/dji/firmware-device';
import { rowIdOf } from './support/relay';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { id externalId status }
  }
`;

const PROGRESS = /* GraphQL */ `
  subscription Progress($gatewaySn: String) {
    upgradeProgress(gatewaySn: $gatewaySn) {
      task { id status }
      subTask { deviceId status statusDesc }
      event { status statusDesc applied }
    }
  }
`;

const REPLY_TIMEOUT_MS = 200;

function newSn(): string {
  return `DOCK${randomUUID().slice(0, 8).toUpperCase()}`;
}

const device = firmwareDevice;

async function create(gateway: TestGateway, gatewaySn: string, devices = [device(gatewaySn)]) {
  const { body } = await gateway.gql<{ createFirmwareUpgrade: { id: string; externalId: string; status: string } }>(CREATE, {
    input: { gatewaySn, devices },
  });
  expect(body.errors).toBeUndefined();
  return body.data!.createFirmwareUpgrade;
}

/** The task's command row; `taskId` is the task's global id, as the API gives it. */
function command(gateway: TestGateway, taskId: string): Promise<OutboundCommand> {
  return gateway.dataSource.getRepository(OutboundCommand).findOneByOrFail({ taskId: rowIdOf(taskId) });
}

async function taskStatus(gateway: TestGateway, id: string): Promise<string> {
  return (await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ id: rowIdOf(id) })).status;
}

describe('with a short reply window', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ DJI_REPLY_TIMEOUT_MS: String(REPLY_TIMEOUT_MS), DJI_SEND_ATTEMPTS: '3' });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  test('no reply: three ota_create with the same bid and new tids, then TIMED_OUT for every device, published', async () => {
    const sn = newSn();
    const aircraft = `AC${sn}`;
    const dock = await Dock.connect(gateway.mqttUrl, sn);
    try {
      const sub = collect<{ upgradeProgress: any }>(gateway.ws(), PROGRESS, { gatewaySn: sn });
      await subscriptionsRunning(gateway, 1);
      const created = await create(gateway, sn, [device(aircraft), device(sn)]);

      // Each device's creation (PENDING), then its time-out.
      const received = (await sub.until(4)).slice(2);
      const sends = await dock.nextOtaCreates(3);
      // Everything was sent before the time-out was recorded, and nothing after it.
      expect(sends).toHaveLength(3);
      expect(sends.map((m) => m.json.bid)).toEqual([created.externalId, created.externalId, created.externalId]);
      const tids = sends.map((m) => m.json.tid);
      expect(new Set(tids).size).toBe(3);
      expect(sends.every((m) => m.json.method === 'ota_create' && m.json.data.devices.length === 2)).toBe(true);
      // Each resend waited for its reply window (gateway clock, in the message).
      for (let i = 1; i < sends.length; i++) {
        expect(sends[i].json.timestamp - sends[i - 1].json.timestamp).toBeGreaterThanOrEqual(REPLY_TIMEOUT_MS);
      }

      const updates = received.map((r) => r.upgradeProgress);
      expect(updates.map((u) => u.subTask.deviceId).sort()).toEqual([aircraft, sn].sort());
      for (const update of updates) {
        expect(update.event).toEqual({ status: 'TIMED_OUT', statusDesc: 'no services_reply to ota_create after 3 sends', applied: true });
        expect(update.subTask).toMatchObject({ status: 'TIMED_OUT', statusDesc: 'no services_reply to ota_create after 3 sends' });
      }
      expect(updates[1].task).toEqual({ id: created.id, status: 'TIMED_OUT' });

      const row = await command(gateway, created.id);
      expect(row).toMatchObject({ status: OutboundCommandStatus.TIMED_OUT, attempts: 3, maxAttempts: 3, tids, tid: tids[2] });

      // A reply after the end is kept in the ledger and moves nothing.
      await dock.replyTo(sends[2]);
      await eventually(
        async () =>
          (await gateway.dataSource.getRepository(InboundMessage).countBy({ dedupeKey: `dji:${sn}:reply:${tids[2]}` })) === 1,
        10_000,
        'the late reply in the ledger',
      );
      const late = await gateway.dataSource.getRepository(InboundMessage).findOneByOrFail({ dedupeKey: `dji:${sn}:reply:${tids[2]}` });
      expect(late.outcome).toBe(InboundOutcome.UNHANDLED);
      expect(await taskStatus(gateway, created.id)).toBe('TIMED_OUT');
      expect(dock.otaCreates).toHaveLength(3);
      sub.unsubscribe();
    } finally {
      await dock.close();
    }
  });

  test('a reply to the first tid after a resend still answers the command; no more resends', async () => {
    const sn = newSn();
    const dock = await Dock.connect(gateway.mqttUrl, sn);
    try {
      const created = await create(gateway, sn);
      const [first, second] = await dock.nextOtaCreates(2);
      expect(second.json.bid).toBe(first.json.bid);
      expect(second.json.tid).not.toBe(first.json.tid);

      await dock.replyTo(first);
      await eventually(async () => (await taskStatus(gateway, created.id)) === 'IN_PROGRESS', 10_000, 'the reply applied');
      const row = await command(gateway, created.id);
      expect(row.status).toBe(OutboundCommandStatus.ANSWERED);
      expect(row.tids.slice(0, 2)).toEqual([first.json.tid, second.json.tid]);
      // A third send may have been claimed just before the reply: it is the last.
      await eventually(() => dock.otaCreates.length === row.attempts, 10_000, 'every claimed send delivered');
      // Proving a negative takes a wait: two reply windows, and nothing more is sent.
      await sleep(2 * REPLY_TIMEOUT_MS);
      expect(dock.otaCreates).toHaveLength(row.attempts);
      expect(await taskStatus(gateway, created.id)).toBe('IN_PROGRESS');

      // The reply to the other tid now finds nothing waiting.
      await dock.replyTo(second);
      const key = `dji:${sn}:reply:${second.json.tid}`;
      await eventually(async () => (await gateway.dataSource.getRepository(InboundMessage).countBy({ dedupeKey: key })) === 1);
      expect((await gateway.dataSource.getRepository(InboundMessage).findOneByOrFail({ dedupeKey: key })).outcome).toBe(
        InboundOutcome.UNHANDLED,
      );
    } finally {
      await dock.close();
    }
  });

  test('progress for the task without any services_reply: the dock has it, so no more resends and no time-out', async () => {
    const sn = newSn();
    const dock = await Dock.connect(gateway.mqttUrl, sn);
    try {
      const created = await create(gateway, sn);
      const [first] = await dock.nextOtaCreates(1);
      await dock.event({
        tid: randomUUID(),
        bid: first.json.bid,
        timestamp: Date.now(),
        method: 'ota_progress',
        need_reply: 1,
        data: { result: 0, output: { status: 'in_progress', progress: { percent: 3, step_key: 'download_firmware' } } },
      });
      await dock.nextEventsReplies(1);
      await eventually(async () => (await command(gateway, created.id)).status === OutboundCommandStatus.ANSWERED, 10_000, 'command settled');
      const { attempts } = await command(gateway, created.id);
      await eventually(() => dock.otaCreates.length === attempts, 10_000, 'every claimed send delivered');
      await sleep(2 * REPLY_TIMEOUT_MS);
      expect(dock.otaCreates).toHaveLength(attempts);
      expect(await taskStatus(gateway, created.id)).toBe('IN_PROGRESS');
    } finally {
      await dock.close();
    }
  });
});

test('a command pending when the gateway stopped is resent after a restart, and its old tid still answers it', async () => {
  const sn = newSn();
  // A controlled clock: frozen while the dock is not listening, moved on when it is.
  let now = new Date(Date.now() - 60_000);
  const clock: Clock = { now: () => now };
  const env = { DJI_REPLY_TIMEOUT_MS: '5000', DJI_SEND_ATTEMPTS: '3' };

  const first = await startTestGateway(env, { clock });
  let taskId: string;
  let firstTid: string;
  try {
    const dock = await Dock.connect(first.mqttUrl, sn);
    const created = await create(first, sn);
    taskId = created.id;
    const [send] = await dock.nextOtaCreates(1);
    firstTid = send.json.tid;
    await dock.close();
  } finally {
    await first.stop({ keepDir: true });
  }

  const second = await startTestGateway(env, { clock, dir: first.dir });
  try {
    const pending = await command(second, taskId);
    expect(pending).toMatchObject({ status: OutboundCommandStatus.PENDING, attempts: 1, tids: [firstTid] });
    const dock = await Dock.connect(second.mqttUrl, sn);
    try {
      // Past the stored reply window: the new process's scan resends it.
      now = new Date(now.getTime() + 5_001);
      const [resend] = await dock.nextOtaCreates(1);
      expect(resend.json.bid).toBe(pending.bid);
      expect(resend.json.tid).not.toBe(firstTid);
      expect(resend.json.timestamp).toBe(now.getTime());
      await eventually(async () => (await command(second, taskId)).attempts === 2, 10_000, 'attempt 2 stored');

      // The dock answers the send it got before the restart.
      await dock.replyTo({ ...resend, json: { ...resend.json, tid: firstTid } });
      await eventually(async () => (await command(second, taskId)).status === OutboundCommandStatus.ANSWERED, 10_000, 'answered');
      expect(await taskStatus(second, taskId)).toBe('IN_PROGRESS');
    } finally {
      await dock.close();
    }
  } finally {
    await second.stop();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
