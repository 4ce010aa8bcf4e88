/**
 * DJI OTA end to end, through the real gateway: a real MQTT.js client plays
 * the dock against the embedded broker, a real graphql-ws client watches.
 */
import { randomUUID } from 'node:crypto';
import { InboundMessage, InboundOutcome, OutboundCommand, OutboundCommandStatus, ProgressEvent, UpgradeSubTask, UpgradeTask } from '../src/store/entities';
import { Dock, djiFixture } from './fixtures/dji/dock';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) {
      id source kind externalId gatewaySn status progress
      subTasks { deviceId status targetVersion fileName fileUrl fileSize md5 firmwareUpgradeType }
    }
  }
`;

const PROGRESS = /* GraphQL */ `
  subscription Progress($gatewaySn: String) {
    upgradeProgress(gatewaySn: $gatewaySn) {
      task { id externalId status progress }
      subTask { deviceId status percent step errorCode vendorStatus statusDesc }
      event { id status vendorStatus percent step errorCode statusDesc applied }
    }
  }
`;

const TASK = /* GraphQL */ `
  query Task($id: ID!) {
    upgradeTask(id: $id) {
      id status progress
      subTasks { deviceId status percent step errorCode vendorStatus events { status applied percent } }
    }
  }
`;

type Progress = { upgradeProgress: any };

/** A fresh dock serial number per test, so tests sharing the gateway never see each other's traffic. */
function newSn(): string {
  return `DOCK${randomUUID().slice(0, 8).toUpperCase()}`;
}

function device(sn: string, overrides: Record<string, unknown> = {}) {
  return {
    sn,
    productVersion: '10.01.3202',
    fileUrl: 'https://oss.example/fw/dock.zip',
    md5: 'E4D909C290D0FB1CA068FFADDF22CBD0',
    fileSize: 123456789,
    fileName: 'dock_10.01.3202.zip',
    firmwareUpgradeType: 'REGULAR',
    ...overrides,
  };
}

/** An ota_progress event as a dock sends it. */
function progress(bid: string, timestamp: number, output: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { tid: randomUUID(), bid, timestamp, method: 'ota_progress', need_reply: 1, data: { result: 0, output }, ...extra };
}

let gateway: TestGateway;

beforeAll(async () => {
  // A reply window long enough that no resend ever interferes here (resends: dji.resend.test.ts).
  gateway = await startTestGateway({ DJI_REPLY_TIMEOUT_MS: '30000' });
});
afterAll(async () => {
  await gateway?.stop();
});

async function createUpgrade(input: Record<string, unknown>) {
  const { status, body } = await gateway.gql<{ createFirmwareUpgrade: any }>(CREATE, { input });
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  return body.data!.createFirmwareUpgrade;
}

async function task(id: string) {
  const { body } = await gateway.gql<{ upgradeTask: any }>(TASK, { id });
  expect(body.errors).toBeUndefined();
  return body.data!.upgradeTask;
}

/**
 * The ledger rows whose payload contains `text`, oldest first, once there are
 * at least `count`. (The dock's PUBACK comes from the broker, not the gateway,
 * so a sent message is waited for here.)
 */
async function ledgerRows(text: string, count: number): Promise<InboundMessage[]> {
  let rows: InboundMessage[] = [];
  await eventually(async () => {
    rows = await gateway.dataSource
      .getRepository(InboundMessage)
      .createQueryBuilder('m')
      .where('m.payload LIKE :text', { text: `%${text}%` })
      .orderBy('m.id')
      .getMany();
    return rows.length >= count;
  }, 10_000, `${count} ledger rows with ${text}`);
  return rows;
}

/** A dock on its own SN: messages it sends go to `thing/product/{sn}/…`. */
async function dockFor(sn: string): Promise<Dock> {
  const d = await Dock.connect(gateway.mqttUrl, sn);
  return d;
}

test('createFirmwareUpgrade → ota_create → services_reply → ota_progress (every step spelling) → SUCCEEDED, live and in order', async () => {
  const sn = newSn();
  const aircraft = `AC${sn}`;
  const me = await dockFor(sn);
  try {
    const sub = collect<Progress>(gateway.ws(), PROGRESS, { gatewaySn: sn });
    await subscriptionsRunning(gateway, 1);

    const created = await createUpgrade({
      gatewaySn: sn,
      devices: [
        device(aircraft, {
          fileUrl: 'https://oss.example/fw/m30.zip',
          md5: '9e107d9d372bb6826bd81d3542a419d6',
          // Beyond 32 bits, the largest size a JSON number carries exactly.
          fileSize: Number.MAX_SAFE_INTEGER,
          fileName: 'wm260_10.01.3202.zip',
        }),
        device(sn, { firmwareUpgradeType: 'CONSISTENT', productVersion: '10.01.3203' }),
      ],
    });
    expect(created).toMatchObject({ source: 'DJI', kind: 'FIRMWARE', gatewaySn: sn, status: 'PENDING', progress: null });
    const bid: string = created.externalId;
    expect(bid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.subTasks).toHaveLength(2);
    expect(created.subTasks.find((s: any) => s.deviceId === aircraft)).toEqual({
      deviceId: aircraft,
      status: 'PENDING',
      targetVersion: '10.01.3202',
      fileName: 'wm260_10.01.3202.zip',
      fileUrl: 'https://oss.example/fw/m30.zip',
      fileSize: Number.MAX_SAFE_INTEGER,
      md5: '9e107d9d372bb6826bd81d3542a419d6',
      firmwareUpgradeType: 'REGULAR',
    });
    // Normalised on the way in: md5 lowercase.
    expect(created.subTasks.find((s: any) => s.deviceId === sn)).toMatchObject({ md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', firmwareUpgradeType: 'CONSISTENT' });

    // The dock gets ota_create on its services topic, exactly as DJI documents it.
    const [otaCreate] = await me.nextOtaCreates(1);
    expect(otaCreate.topic).toBe(`thing/product/${sn}/services`);
    expect(Object.keys(otaCreate.json)).toEqual(['bid', 'tid', 'timestamp', 'method', 'data']);
    expect(otaCreate.json).toEqual({
      bid,
      tid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      timestamp: expect.any(Number),
      method: 'ota_create',
      data: {
        devices: [
          {
            sn: aircraft,
            product_version: '10.01.3202',
            file_url: 'https://oss.example/fw/m30.zip',
            md5: '9e107d9d372bb6826bd81d3542a419d6',
            file_size: 9007199254740991,
            file_name: 'wm260_10.01.3202.zip',
            firmware_upgrade_type: 3,
          },
          {
            sn,
            product_version: '10.01.3203',
            file_url: 'https://oss.example/fw/dock.zip',
            md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
            file_size: 123456789,
            file_name: 'dock_10.01.3202.zip',
            firmware_upgrade_type: 2,
          },
        ],
      },
    });
    expect(Object.keys(otaCreate.json.data.devices[0])).toEqual([
      'sn',
      'product_version',
      'file_url',
      'md5',
      'file_size',
      'file_name',
      'firmware_upgrade_type',
    ]);
    // Exact on the wire, not just after a lossy parse.
    expect(otaCreate.raw).toContain('"file_size":9007199254740991');
    expect(otaCreate.json.tid).not.toBe(bid);

    // The dock accepts: result 0 without output.status → SENT.
    const t0 = Date.now();
    await me.servicesReply({ tid: otaCreate.json.tid, bid, timestamp: t0, method: 'ota_create', gateway: sn, data: { result: 0 } });

    // Progress in all three step spellings, then ok; each asks for a reply.
    const events = [
      progress(bid, t0 + 1, { status: 'in_progress', progress: { percent: 20, step_key: 'download_firmware' } }),
      progress(bid, t0 + 2, { status: 'in_progress', progress: { percent: 40, current_step: 'download_firmware' } }),
      progress(bid, t0 + 3, { status: 'in_progress', progress: { percent: 70, current_step: 2 } }),
      progress(bid, t0 + 4, { status: 'ok', progress: { percent: 100, current_step: 'upgrade_firmware' } }),
    ];
    for (const event of events) await me.event(event);

    // Every events_reply carries the event's tid and bid, on events_reply.
    const replies = await me.nextEventsReplies(4);
    expect(replies.map((r) => r.topic)).toEqual(Array(4).fill(`thing/product/${sn}/events_reply`));
    expect(replies.map((r) => r.json.tid).sort()).toEqual(events.map((e) => e.tid).sort());
    for (const reply of replies) {
      expect(reply.json).toEqual({ tid: reply.json.tid, bid, timestamp: expect.any(Number), method: 'ota_progress', data: { result: 0 } });
    }

    // Live: 5 observations × 2 devices, in commit order.
    const received = await sub.until(10);
    expect(sub.errors).toEqual([]);
    const forAircraft = received.map((r) => r.upgradeProgress).filter((p) => p.subTask.deviceId === aircraft);
    expect(forAircraft.map((p) => [p.event.status, p.event.percent, p.event.step])).toEqual([
      ['SENT', null, null],
      ['IN_PROGRESS', 20, 'download_firmware'],
      ['IN_PROGRESS', 40, 'download_firmware'],
      ['IN_PROGRESS', 70, 'upgrade_firmware'],
      ['SUCCEEDED', 100, 'upgrade_firmware'],
    ]);
    expect(forAircraft.every((p) => p.event.applied)).toBe(true);
    const ids = received.map((r) => Number(r.upgradeProgress.event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const last = received[9].upgradeProgress;
    expect(last.task).toMatchObject({ id: created.id, externalId: bid, status: 'SUCCEEDED', progress: 100 });
    expect(received[0].upgradeProgress.task.status).toBe('SENT');

    const stored = await task(created.id);
    expect(stored.status).toBe('SUCCEEDED');
    for (const s of stored.subTasks) {
      expect(s).toMatchObject({ status: 'SUCCEEDED', percent: 100, step: 'upgrade_firmware', vendorStatus: 'ok' });
      expect(s.events.map((e: any) => e.status)).toEqual(['SENT', 'IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);
    }
    const command = await gateway.dataSource.getRepository(OutboundCommand).findOneByOrFail({ taskId: created.id });
    expect(command).toMatchObject({
      status: OutboundCommandStatus.ANSWERED,
      attempts: 1,
      tids: [otaCreate.json.tid],
      tid: otaCreate.json.tid,
      bid,
      gatewaySn: sn,
      method: 'ota_create',
    });
    expect(me.otaCreates).toHaveLength(1);
    sub.unsubscribe();
  } finally {
    await me.close();
  }
});

test('a refused ota_create (result 312015) makes the task REJECTED with errorCode "312015"', async () => {
  const sn = newSn();
  const me = await dockFor(sn);
  try {
    const sub = collect<Progress>(gateway.ws(), PROGRESS, { gatewaySn: sn });
    await subscriptionsRunning(gateway, 1);
    const created = await createUpgrade({ gatewaySn: sn, devices: [device(sn)] });
    const [otaCreate] = await me.nextOtaCreates(1);

    const refused = djiFixture('services-reply-refused').payload;
    await me.servicesReply({ ...refused, tid: otaCreate.json.tid, bid: created.externalId, gateway: sn, timestamp: Date.now() });

    const [message] = await sub.until(1);
    expect(message.upgradeProgress.event).toMatchObject({ status: 'REJECTED', errorCode: '312015', applied: true });
    expect(message.upgradeProgress.task).toMatchObject({ id: created.id, status: 'REJECTED' });
    const stored = await task(created.id);
    expect(stored.subTasks[0]).toMatchObject({ status: 'REJECTED', errorCode: '312015' });
    const command = await gateway.dataSource.getRepository(OutboundCommand).findOneByOrFail({ taskId: created.id });
    expect(command.status).toBe(OutboundCommandStatus.ANSWERED);

    // The same reply again: a duplicate in the ledger, nothing moves.
    await me.servicesReply({ ...refused, tid: otaCreate.json.tid, bid: created.externalId, gateway: sn, timestamp: Date.now() });
    // A reply with a tid never sent for this task: kept, unhandled.
    await me.servicesReply({ ...refused, tid: randomUUID(), bid: created.externalId, gateway: sn, timestamp: Date.now() });
    const ledger = await ledgerRows(created.externalId, 3);
    expect(ledger.map((m) => m.outcome)).toEqual([InboundOutcome.RECORDED, InboundOutcome.DUPLICATE, InboundOutcome.UNHANDLED]);
    expect(ledger[2].reason).toMatch(/matches no command waiting for a reply/);
    expect(await gateway.dataSource.getRepository(ProgressEvent).countBy({ taskId: created.id })).toBe(1);
    sub.unsubscribe();
  } finally {
    await me.close();
  }
});

test('ota_progress for an unknown bid creates a task with a sub-task for the gateway sn', async () => {
  const sn = newSn();
  const me = await dockFor(sn);
  try {
    const bid = `elsewhere-${randomUUID()}`;
    const event = { ...djiFixture('ota-progress-current-step-string').payload, bid, tid: randomUUID(), gateway: sn };
    await me.event(event);
    const [reply] = await me.nextEventsReplies(1);
    expect(reply.json).toMatchObject({ tid: event.tid, bid, method: 'ota_progress', data: { result: 0 } });

    const row = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: bid });
    // 37 % of the download, which is the first half of a DJI upgrade (download 0–50, install 50–100).
    expect(row).toMatchObject({ source: 'DJI', kind: 'FIRMWARE', gatewaySn: sn, status: 'IN_PROGRESS', progress: 19 });
    const stored = await task(row.id);
    expect(stored.subTasks).toEqual([
      expect.objectContaining({ deviceId: sn, status: 'IN_PROGRESS', percent: 37, step: 'download_firmware', vendorStatus: 'in_progress' }),
    ]);
    // No command was sent for it, so nothing is waiting for a reply.
    expect(await gateway.dataSource.getRepository(OutboundCommand).countBy({ taskId: row.id })).toBe(0);
  } finally {
    await me.close();
  }
});

test('the same event twice (same tid) is recorded once and answered twice', async () => {
  const sn = newSn();
  const me = await dockFor(sn);
  try {
    const bid = randomUUID();
    const event = progress(bid, Date.now(), { status: 'in_progress', progress: { percent: 10, step_key: 'download_firmware' } });
    await me.event(event);
    await me.event(event);
    const replies = await me.nextEventsReplies(2);
    expect(replies.map((r) => [r.json.tid, r.json.bid])).toEqual([
      [event.tid, bid],
      [event.tid, bid],
    ]);
    const row = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: bid });
    expect(await gateway.dataSource.getRepository(ProgressEvent).countBy({ taskId: row.id })).toBe(1);
    const ledger = await ledgerRows(event.tid, 2);
    expect(ledger.map((m) => m.outcome)).toEqual([InboundOutcome.RECORDED, InboundOutcome.DUPLICATE]);
  } finally {
    await me.close();
  }
});

// Arrival order decides, not the dock's timestamps: this test used to show an event older by the
// dock's clock being ignored and a terminal one after the end too. Now the dock's last word wins.
test('events apply in arrival order whatever their timestamps; after the end only a later terminal report applies', async () => {
  const sn = newSn();
  const me = await dockFor(sn);
  try {
    const sub = collect<Progress>(gateway.ws(), PROGRESS, { gatewaySn: sn });
    await subscriptionsRunning(gateway, 1);
    const bid = randomUUID();
    const t = Date.now();
    await me.event(progress(bid, t, { status: 'in_progress', progress: { percent: 60, step_key: 'upgrade_firmware' } }));
    await me.event(progress(bid, t - 5000, { status: 'in_progress', progress: { percent: 10, step_key: 'download_firmware' } }));
    await me.event(progress(bid, t + 1000, { status: 'ok', progress: { percent: 100, step_key: 'upgrade_firmware' } }));
    await me.event(progress(bid, t + 2000, { status: 'in_progress', progress: { percent: 5, step_key: 'download_firmware' } }));
    await me.event(progress(bid, t + 3000, { status: 'failed', progress: { percent: 0 } }, { data: { result: 312022, output: { status: 'failed' } } }));

    const received = (await sub.until(5)).map((r) => r.upgradeProgress);
    expect(received.map((p) => [p.event.status, p.event.applied, p.event.percent])).toEqual([
      ['IN_PROGRESS', true, 60],
      ['IN_PROGRESS', true, 10],
      ['SUCCEEDED', true, 100],
      ['SUCCEEDED', false, 5],
      ['FAILED', true, null],
    ]);
    expect(received[1].subTask).toMatchObject({ status: 'IN_PROGRESS', percent: 10, step: 'download_firmware' });
    expect(received[4].event.errorCode).toBe('312022');
    const row = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: bid });
    const stored = await task(row.id);
    expect(stored.subTasks[0]).toMatchObject({ status: 'FAILED', percent: 100, step: 'upgrade_firmware', errorCode: '312022' });
    expect(stored.subTasks[0].events.map((e: any) => e.applied)).toEqual([true, true, true, false, true]);
    // Every one of them was answered all the same.
    await me.nextEventsReplies(5);
    sub.unsubscribe();
  } finally {
    await me.close();
  }
});

test('garbage on the wire is kept in the ledger as REJECTED; the gateway stays healthy and keeps processing', async () => {
  const sn = newSn();
  const me = await dockFor(sn);
  try {
    const ledger = gateway.dataSource.getRepository(InboundMessage);
    const before = await ledger.countBy({ outcome: InboundOutcome.REJECTED });
    const bid = randomUUID();
    const good = progress(bid, Date.now(), { status: 'in_progress', progress: { percent: 5, step_key: 'download_firmware' } });
    const garbage: unknown[] = [
      'this is not json',
      '{"tid": "x", "bid": ',
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      '[1,2,3]',
      'null',
      { ...good, tid: 42 },
      { ...good, tid: randomUUID(), bid: { nested: true } },
      { ...good, tid: randomUUID(), data: [] },
      { ...good, tid: randomUUID(), data: { result: 'zero', output: { status: 'in_progress' } } },
      { ...good, tid: randomUUID(), data: { result: 0, output: { status: 7, progress: { percent: 'half' } } } },
      // Over the 256 KiB payload limit (and within the broker's packet limit).
      JSON.stringify({ ...good, tid: randomUUID(), padding: 'x'.repeat(257 * 1024) }).slice(0, 256 * 1024 + 100),
    ];
    for (const payload of garbage) await me.event(payload);
    // services_reply garbage too.
    await me.servicesReply('{"method":"ota_create","data":{"result":0}');
    await me.servicesReply({ tid: randomUUID(), bid, method: 'ota_create', data: { result: 'ok' } });

    const expected = before + garbage.length + 2;
    await eventually(async () => (await ledger.countBy({ outcome: InboundOutcome.REJECTED })) >= expected, 10_000, 'rejected rows');
    expect(await ledger.countBy({ outcome: InboundOutcome.REJECTED })).toBe(expected);
    const oversized = await ledger
      .createQueryBuilder('m')
      .where('m.outcome = :o', { o: InboundOutcome.REJECTED })
      .andWhere('m.reason LIKE :r', { r: '%byte limit%' })
      .getMany();
    expect(oversized.length).toBeGreaterThanOrEqual(1);

    const health = await fetch(`${gateway.url}/readyz`);
    expect(health.status).toBe(200);
    expect(gateway.mqtt.connected).toBe(true);

    // A good message after all of that is processed and answered.
    await me.event(good);
    await eventually(() => me.eventsReplies.some((r) => r.json.tid === good.tid), 10_000, 'the reply to the good event');
    const row = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: bid });
    expect(row.status).toBe('IN_PROGRESS');
  } finally {
    await me.close();
  }
});

describe('createFirmwareUpgrade input validation', () => {
  const sn = 'VALIDATION-DOCK';
  const valid = () => ({ gatewaySn: sn, devices: [device(sn)] });
  const withDevice = (overrides: Record<string, unknown>) => ({ gatewaySn: sn, devices: [device(sn, overrides)] });

  /** [what, input, the field the error must name] */
  const cases: [string, Record<string, unknown>, string][] = [
    ['empty gatewaySn', { ...valid(), gatewaySn: '' }, 'gatewaySn'],
    ['blank gatewaySn', { ...valid(), gatewaySn: '   ' }, 'gatewaySn'],
    ['gatewaySn with a topic separator', { ...valid(), gatewaySn: 'a/b' }, 'gatewaySn'],
    ['gatewaySn with a wildcard', { ...valid(), gatewaySn: 'dock#' }, 'gatewaySn'],
    ['gatewaySn too long', { ...valid(), gatewaySn: 'D'.repeat(65) }, 'gatewaySn'],
    ['no devices', { gatewaySn: sn, devices: [] }, 'devices'],
    ['three devices', { gatewaySn: sn, devices: [device('A1'), device('A2'), device('A3')] }, 'devices'],
    ['the same device twice', { gatewaySn: sn, devices: [device('A1'), device('A1')] }, 'devices[1].sn'],
    ['empty device sn', withDevice({ sn: '' }), 'devices[0].sn'],
    ['device sn with a wildcard', withDevice({ sn: 'A+' }), 'devices[0].sn'],
    ['empty productVersion', withDevice({ productVersion: '' }), 'devices[0].productVersion'],
    ['fileUrl not a URL', withDevice({ fileUrl: 'not a url' }), 'devices[0].fileUrl'],
    ['fileUrl not http(s)', withDevice({ fileUrl: 'ftp://oss.example/fw.zip' }), 'devices[0].fileUrl'],
    ['md5 too short', withDevice({ md5: 'abc123' }), 'devices[0].md5'],
    ['md5 not hex', withDevice({ md5: 'z'.repeat(32) }), 'devices[0].md5'],
    ['fileSize zero', withDevice({ fileSize: 0 }), 'devices[0].fileSize'],
    ['fileSize negative', withDevice({ fileSize: -1 }), 'devices[0].fileSize'],
    ['empty fileName', withDevice({ fileName: ' ' }), 'devices[0].fileName'],
  ];
  /** Rejected by GraphQL itself (types), before the resolver: also BAD_USER_INPUT, the path in the message. */
  const typeCases: [string, Record<string, unknown>, string][] = [
    ['fileSize not an integer', withDevice({ fileSize: 1.5 }), 'fileSize'],
    ['fileSize over 2^53 - 1', withDevice({ fileSize: 2 ** 53 }), 'fileSize'],
    ['fileSize as a string', withDevice({ fileSize: '123' }), 'fileSize'],
    ['unknown firmwareUpgradeType', withDevice({ firmwareUpgradeType: 'PATCH' }), 'firmwareUpgradeType'],
    ['missing md5', { gatewaySn: sn, devices: [{ ...device(sn), md5: undefined }] }, 'md5'],
    ['missing gatewaySn', { devices: [device(sn)] }, 'gatewaySn'],
  ];

  let watcher: Dock;
  let tasksBefore: number;
  beforeAll(async () => {
    watcher = await dockFor(sn);
    tasksBefore = await gateway.dataSource.getRepository(UpgradeTask).count();
  });
  afterAll(async () => {
    await watcher?.close();
  });

  test.each(cases)('%s → BAD_USER_INPUT naming the field', async (_what, input, field) => {
    const { body } = await gateway.gql(CREATE, { input });
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors!;
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect((error.extensions?.fields as { field: string }[]).map((f) => f.field)).toContain(field);
    expect(error.message).toContain(field);
  });

  test.each(typeCases)('%s → BAD_USER_INPUT from GraphQL naming the field', async (_what, input, field) => {
    const { body } = await gateway.gql(CREATE, { input });
    expect(body.data ?? null).toBeNull();
    const [error] = body.errors!;
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain(field);
  });

  test('every field wrong at once: each one named', async () => {
    const { body } = await gateway.gql(CREATE, {
      input: {
        gatewaySn: 'a/b',
        devices: [device('', { productVersion: '', fileUrl: 'x', md5: 'x', fileSize: 0, fileName: '' })],
      },
    });
    const fields = (body.errors![0].extensions?.fields as { field: string }[]).map((f) => f.field);
    expect(fields).toEqual([
      'gatewaySn',
      'devices[0].sn',
      'devices[0].productVersion',
      'devices[0].fileUrl',
      'devices[0].md5',
      'devices[0].fileSize',
      'devices[0].fileName',
    ]);
  });

  test('none of them stored anything or published anything', async () => {
    const tasks = () => gateway.dataSource.getRepository(UpgradeTask).countBy({ gatewaySn: sn });
    expect(await tasks()).toBe(0);
    expect(await gateway.dataSource.getRepository(UpgradeTask).count()).toBe(tasksBefore);
    expect(await gateway.dataSource.getRepository(UpgradeSubTask).countBy({ deviceId: sn })).toBe(0);
    expect(await gateway.dataSource.getRepository(OutboundCommand).countBy({ gatewaySn: sn })).toBe(0);
    // The broker delivers in order: the first message the watcher (subscribed to
    // this dock's services) sees after all the bad inputs is this valid request's.
    const created = await createUpgrade(valid());
    await watcher.nextOtaCreates(1);
    const services = watcher.received.filter((m) => m.topic.endsWith('/services'));
    expect(services[0].json.bid).toBe(created.externalId);
    expect(services[0].topic).toBe(`thing/product/${sn}/services`);
    expect(await tasks()).toBe(1);
  });
});
