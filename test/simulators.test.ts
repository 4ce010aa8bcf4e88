/**
 * The simulators (`npm run simulate:dock`, `npm run simulate:huawei`): their
 * wire formats against a bare broker, their effect on a real gateway read back
 * through GraphQL, and the compiled command lines as a user runs them.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/embedded-broker';
import { UsageError } from '../src/simulators/cli';
import { BUSY_RESULT, FAILURE_RESULT, progressPlan, startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { parseDockArgs } from '../src/simulators/dock';
import { parseHuaweiArgs } from '../src/simulators/huawei';
import { callbackUrl, huaweiSequence, newHuaweiIds, runHuaweiSequence } from '../src/simulators/huawei-pushes';
import { collectingOutput } from '../src/simulators/output';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';
import { firmwareDevice } from './fixtures/dji/firmware-device';

const DIST = join(__dirname, '..', 'dist', 'src', 'simulators');

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { id externalId status }
  }
`;

const TASK = /* GraphQL */ `
  query Task($id: ID!) {
    upgradeTask(id: $id) {
      id externalId status progress
      subTasks { deviceId status percent step errorCode vendorStatus events { status percent step applied } }
    }
  }
`;

const newSn = () => `SIM${randomUUID().slice(0, 8).toUpperCase()}`;

const device = firmwareDevice;

/** Rejects when `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

describe('progressPlan', () => {
  test('download 0→100, upgrade 0→100 in steps of 10, then ok', () => {
    const plan = progressPlan();
    expect(plan).toHaveLength(23);
    expect(plan.slice(0, 11).map((r) => [r.step, r.percent])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => ['download_firmware', p]));
    expect(plan.slice(11, 22).map((r) => [r.step, r.percent])).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => ['upgrade_firmware', p]));
    expect(plan.slice(0, 22).every((r) => r.status === 'in_progress' && r.result === 0)).toBe(true);
    expect(plan[22]).toEqual({ status: 'ok', step: 'upgrade_firmware', percent: 100, result: 0 });
  });

  test.each([
    [40, 4],
    [35, 4],
    [0, 0],
    [100, 10],
  ])('fail-at %i: the upgrade phase stops there with failed and 312022', (failAt, inProgressBefore) => {
    const plan = progressPlan(failAt);
    const upgrade = plan.slice(11);
    expect(upgrade).toHaveLength(inProgressBefore + 1);
    expect(upgrade.at(-1)).toEqual({ status: 'failed', step: 'upgrade_firmware', percent: failAt, result: FAILURE_RESULT });
  });
});

describe('command lines', () => {
  test('dock flags become options', () => {
    expect(parseDockArgs(['--gateway-sn', 'DOCK1'])).toEqual({
      help: false,
      options: expect.objectContaining({ gatewaySn: 'DOCK1', mqttUrl: 'mqtt://127.0.0.1:1883', once: false, failAt: undefined, reject: undefined }),
    });
    expect(parseDockArgs(['--gateway-sn', 'D', '--mqtt-url', 'mqtt://broker:1884', '--fail-at', '40', '--speed', '2.5', '--once'])).toEqual({
      help: false,
      options: expect.objectContaining({ gatewaySn: 'D', mqttUrl: 'mqtt://broker:1884', failAt: 40, speed: 2.5, once: true }),
    });
    expect(parseDockArgs(['--gateway-sn=D', '--reject=312015'])).toMatchObject({ options: { reject: 312015 } });
    expect(parseDockArgs(['-h'])).toEqual({ help: true });
  });

  test.each([
    [[], '--gateway-sn is required'],
    [['--gateway-sn'], "Option '--gateway-sn <value>' argument missing"],
    [['--gateway-sn', 'a/b'], "--gateway-sn must be 1 to 64 characters without '/', '+', '#'"],
    [['--gateway-sn', 'D', '--fail-at', '101'], '--fail-at must be a whole percent from 0 to 100'],
    [['--gateway-sn', 'D', '--fail-at', '4.5'], '--fail-at must be a whole number'],
    [['--gateway-sn', 'D', '--fail-at', 'half'], '--fail-at must be a whole number'],
    [['--gateway-sn', 'D', '--reject', '0'], '--reject must be a non-zero whole result code'],
    [['--gateway-sn', 'D', '--reject', '312015', '--fail-at', '10'], '--reject and --fail-at exclude each other'],
    [['--gateway-sn', 'D', '--speed', '0'], '--speed must be a number above 0'],
    [['--gateway-sn', 'D', '--speed', 'fast'], '--speed must be a number'],
    [['--gateway-sn', 'D', '--mqtt-url', 'http://x'], '--mqtt-url must start with mqtt://, mqtts://, ws:// or wss://'],
    [['--gateway-sn', 'D', '--mqtt-url', 'nope'], '--mqtt-url must be a URL'],
    [['--gateway-sn', 'D', '--bogus'], "Unknown option '--bogus'"],
    [['--gateway-sn', 'D', 'extra'], "Unexpected argument 'extra'"],
  ])('dock %j → %s', (argv, message) => {
    expect(() => parseDockArgs(argv)).toThrow(UsageError);
    expect(() => parseDockArgs(argv)).toThrow(message);
  });

  test('huawei flags, and the callback URL built from them', () => {
    expect(parseHuaweiArgs(['--url', 'http://localhost:4000', '--token', 's3cret', '--delay', '0'])).toEqual({
      help: false,
      options: { url: 'http://localhost:4000', token: 's3cret', deviceId: undefined, delayMs: 0 },
    });
    expect(callbackUrl('http://localhost:4000')).toBe('http://localhost:4000/v1.0.0/messageReceiver');
    expect(callbackUrl('http://localhost:4000/hook', 'a b&c')).toBe('http://localhost:4000/hook?token=a+b%26c');
    expect(callbackUrl('https://gw.example/v1.0.0/messageReceiver?x=1', 't')).toBe('https://gw.example/v1.0.0/messageReceiver?x=1&token=t');
  });

  test.each([
    [[], '--url is required'],
    [['--url', 'ftp://x'], '--url must start with http:// or https://'],
    [['--url', 'not a url'], '--url must be an http(s) URL'],
    [['--url', 'http://x', '--token', ''], '--token must not be empty'],
    [['--url', 'http://x', '--delay=-5'], '--delay must be 0 or more milliseconds'],
    [['--url', 'http://x', '--delay', '-5'], "Option '--delay' argument is ambiguous. Did you forget to specify the option argument for '--delay'?"],
    [['--url', 'http://x', '--nope'], "Unknown option '--nope'"],
  ])('huawei %j → %s', (argv, message) => {
    expect(() => parseHuaweiArgs(argv)).toThrow(UsageError);
    expect(() => parseHuaweiArgs(argv)).toThrow(message);
  });

  test('the Huawei sequence: realistic pushes, one of them twice byte for byte', () => {
    const ids = newHuaweiIds('dev-1');
    const pushes = huaweiSequence(ids);
    expect(pushes.map((p) => p.body.notifyType)).toEqual([
      'fwUpgradeStateChangeNotify',
      'fwUpgradeStateChangeNotify',
      'fwUpgradeStateChangeNotify',
      'fwUpgradeResultNotify',
      'fwUpgradeResultNotify',
      'swUpgradeStateChangeNotify',
      'swUpgradeResultNotify',
      'deviceDesiredPropertiesModifyStatusChanged',
    ]);
    expect(pushes.slice(0, 3).map((p) => [p.body.step, p.body.stepDesc])).toEqual([
      ['1', 'downloading'],
      ['2', 'downloaded'],
      ['3', 'updating'],
    ]);
    expect(JSON.stringify(pushes[4].body)).toBe(JSON.stringify(pushes[3].body));
    expect(pushes[6].body).toMatchObject({ swUpgradeResult: 'FAIL', errorCode: '7' });
    expect(pushes[7].body).toMatchObject({ deviceId: 'dev-1', status: 'DELIVERED' });
    expect(newHuaweiIds().firmware.operationId).not.toBe(newHuaweiIds().firmware.operationId);
  });
});

describe('the dock on a bare broker: its wire format', () => {
  let broker: EmbeddedBroker;
  let cloud: MqttClient;
  const received: { topic: string; json: any }[] = [];
  beforeAll(async () => {
    broker = await startEmbeddedBroker('127.0.0.1', 0);
    // The cloud side: the gateway's own identity, the one allowed to send services and replies.
    const { clientId, username, password } = broker.gatewayCredentials;
    cloud = await mqtt.connectAsync(broker.url, { clientId, username, password, reconnectPeriod: 0 });
    cloud.on('message', (topic, payload) => received.push({ topic, json: JSON.parse(payload.toString('utf8')) }));
    await cloud.subscribeAsync(['thing/product/+/services_reply', 'thing/product/+/events'], { qos: 1 });
  });
  afterAll(async () => {
    await cloud?.endAsync();
    await broker?.close();
  });

  const from = (sn: string, kind: string) => received.filter((m) => m.topic === `thing/product/${sn}/${kind}`);
  const otaCreate = (sn: string, bid: string, tid = randomUUID()) => ({
    bid,
    tid,
    timestamp: Date.now(),
    method: 'ota_create',
    data: { devices: [{ sn, product_version: '10.01.3202', file_url: 'https://oss.example/fw.zip', md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', file_size: 1, file_name: 'fw.zip', firmware_upgrade_type: 3 }] },
  });

  test('services_reply with the same tid and bid, then ota_progress with need_reply, fresh tids and rising timestamps; missing replies are warned about', async () => {
    const sn = newSn();
    const output = collectingOutput();
    // Long enough for the two replies below even on a busy machine.
    const dock = await startDock({ gatewaySn: sn, mqttUrl: broker.url, speed: 100, once: true, replyTimeoutMs: 2000, output });
    const bid = randomUUID();
    const request = otaCreate(sn, bid);
    await cloud.publishAsync(`thing/product/${sn}/services`, JSON.stringify(request), { qos: 1 });
    // The cloud answers only the first event, the second with a wrong bid, and no other.
    await eventually(() => from(sn, 'events').length >= 2, 10_000, 'two events');
    const [first, second] = from(sn, 'events');
    await cloud.publishAsync(`thing/product/${sn}/events_reply`, JSON.stringify({ tid: first.json.tid, bid, timestamp: Date.now(), method: 'ota_progress', data: { result: 0 } }));
    await cloud.publishAsync(`thing/product/${sn}/events_reply`, JSON.stringify({ tid: second.json.tid, bid: 'other', timestamp: Date.now(), method: 'ota_progress', data: { result: 0 } }));

    const summary = await within(dock.done, 15_000, 'the dock to finish');
    expect(summary.upgrades).toEqual([
      { bid, devices: [sn], outcome: 'ok', result: 0, eventsSent: 23, repliesReceived: 2, repliesMissing: 21 },
    ]);

    const [reply] = from(sn, 'services_reply');
    expect(from(sn, 'services_reply')).toHaveLength(1);
    expect(reply.json).toEqual({ tid: request.tid, bid, timestamp: expect.any(Number), method: 'ota_create', gateway: sn, data: { result: 0, output: { status: 'in_progress' } } });

    const events = from(sn, 'events').map((m) => m.json);
    expect(events).toHaveLength(23);
    for (const event of events) {
      expect(event).toEqual({
        tid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        bid,
        timestamp: expect.any(Number),
        method: 'ota_progress',
        gateway: sn,
        need_reply: 1,
        data: { result: 0, output: expect.objectContaining({ status: expect.any(String), progress: { percent: expect.any(Number), current_step: expect.any(String) } }) },
      });
    }
    expect(new Set(events.map((e) => e.tid)).size).toBe(23);
    const times = events.map((e) => e.timestamp);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(23);
    expect(events.map((e) => [e.data.output.status, e.data.output.progress.current_step, e.data.output.progress.percent])).toEqual(
      progressPlan().map((r) => [r.status, r.step, r.percent]),
    );
    expect(events[0].data.output.ext.rate).toBeGreaterThan(0);

    expect(output.warnings.filter((w) => w.startsWith('no events_reply for ota_progress'))).toHaveLength(21);
    expect(output.warnings).toContainEqual(expect.stringContaining(`carries bid "other", expected ${bid}`));
    expect(output.lines[0]).toBe(`dock ${sn} connected to ${broker.url}; waiting for ota_create on thing/product/${sn}/services`);
    expect(output.lines).toContainEqual(expect.stringMatching(new RegExp(`^← thing/product/${sn}/services ota_create bid=${bid} tid=${request.tid} devices=${sn}@10.01.3202$`)));
    expect(output.lines).toContainEqual(expect.stringMatching(/^→ thing\/product\/\S+\/services_reply ota_create result=0 status=in_progress /));
    expect(output.lines.at(-1)).toBe(`dock ${sn} disconnected`);
  });

  test('a resent ota_create (same bid, new tid) is answered again but starts nothing new; another bid meanwhile is refused as busy', async () => {
    const sn = newSn();
    const output = collectingOutput();
    const dock = await startDock({ gatewaySn: sn, mqttUrl: broker.url, speed: 30, once: true, replyTimeoutMs: 50, output });
    const bid = randomUUID();
    const first = otaCreate(sn, bid);
    const resend = otaCreate(sn, bid);
    const other = otaCreate(sn, randomUUID());
    for (const message of [first, resend, other]) await cloud.publishAsync(`thing/product/${sn}/services`, JSON.stringify(message), { qos: 1 });
    const summary = await within(dock.done, 15_000, 'the dock to finish');
    expect(from(sn, 'services_reply').map((m) => [m.json.tid, m.json.bid, m.json.data.result])).toEqual([
      [first.tid, bid, 0],
      [resend.tid, bid, 0],
      [other.tid, other.bid, BUSY_RESULT],
    ]);
    expect(summary.upgrades.map((u) => [u.bid, u.outcome, u.eventsSent])).toEqual([[bid, 'ok', 23]]);
    expect(new Set(from(sn, 'events').map((m) => m.json.bid))).toEqual(new Set([bid]));
  });

  test('anything but a well-formed ota_create is ignored, with a line saying so', async () => {
    const sn = newSn();
    const output = collectingOutput();
    const dock = await startDock({ gatewaySn: sn, mqttUrl: broker.url, output });
    try {
      await cloud.publishAsync(`thing/product/${sn}/services`, 'not json', { qos: 1 });
      await cloud.publishAsync(`thing/product/${sn}/services`, JSON.stringify({ tid: 't', bid: 'b', method: 'flighttask_prepare', data: {} }), { qos: 1 });
      await cloud.publishAsync(`thing/product/${sn}/services`, JSON.stringify({ method: 'ota_create', data: {} }), { qos: 1 });
      await cloud.publishAsync(`thing/product/${sn}/events_reply`, JSON.stringify({ tid: 'unknown', bid: 'b', method: 'ota_progress', data: { result: 0 } }), { qos: 1 });
      await eventually(() => output.lines.length >= 8, 5000, 'four lines about four messages');
      // The inventory announcement at connect (update_topo, state) is not about these messages.
      expect(output.lines.slice(1).filter((l) => !/ (sys\/product\/\S+\/status|thing\/product\/\S+\/state) /.test(l))).toEqual([
        `WARNING ← thing/product/${sn}/services: not a JSON object; ignored`,
        `← thing/product/${sn}/services flighttask_prepare: not simulated; ignored`,
        `WARNING ← thing/product/${sn}/services ota_create without tid and bid; not answered`,
        `WARNING ← thing/product/${sn}/events_reply ota_progress tid=unknown: no event of this dock waits for it`,
      ]);
      expect(from(sn, 'services_reply')).toEqual([]);
    } finally {
      await dock.close();
    }
    // close() twice is fine, and done has the (empty) summary.
    await expect(dock.close()).resolves.toEqual({ upgrades: [] });
    await expect(dock.done).resolves.toEqual({ upgrades: [] });
  });

  test('a broker that is not there is a clear error', async () => {
    const closed = await startEmbeddedBroker('127.0.0.1', 0);
    const url = closed.url;
    await closed.close();
    await expect(startDock({ gatewaySn: 'D', mqttUrl: url, output: collectingOutput() })).rejects.toThrow(`could not connect to ${url}`);
  });
});

describe('against a running gateway', () => {
  let gateway: TestGateway;
  const docks: DockSimulator[] = [];
  beforeAll(async () => {
    // A reply window long enough that no resend ever interferes here (resends: dji.resend.test.ts).
    gateway = await startTestGateway({ DJI_REPLY_TIMEOUT_MS: '30000' });
  });
  afterEach(async () => {
    await Promise.all(docks.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function create(input: Record<string, unknown>): Promise<{ id: string; externalId: string }> {
    const { status, body } = await gateway.gql<{ createFirmwareUpgrade: { id: string; externalId: string } }>(CREATE, { input });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    return body.data!.createFirmwareUpgrade;
  }

  async function task(id: string): Promise<any> {
    const { body } = await gateway.gql<{ upgradeTask: any }>(TASK, { id });
    expect(body.errors).toBeUndefined();
    return body.data!.upgradeTask;
  }

  async function dock(options: Parameters<typeof startDock>[0]) {
    const output = collectingOutput();
    const started = await startDock({ mqttUrl: gateway.mqttUrl, output, ...options });
    docks.push(started);
    return { dock: started, output };
  }

  test('the dock answers createFirmwareUpgrade and drives it (dock and aircraft) to SUCCEEDED, every event answered', async () => {
    const sn = newSn();
    const aircraft = `AC${sn}`;
    const { dock: sim, output } = await dock({ gatewaySn: sn, speed: 30, once: true });
    const created = await create({ gatewaySn: sn, devices: [device(aircraft), device(sn)] });

    const summary = await within(sim.done, 20_000, 'the upgrade to finish');
    expect(summary.upgrades).toEqual([
      { bid: created.externalId, devices: [aircraft, sn], outcome: 'ok', result: 0, eventsSent: 23, repliesReceived: 23, repliesMissing: 0 },
    ]);
    expect(output.warnings).toEqual([]);

    // Every reply comes after its event was committed, so the state is final now.
    const stored = await task(created.id);
    expect(stored).toMatchObject({ externalId: created.externalId, status: 'SUCCEEDED', progress: 100 });
    expect(stored.subTasks).toHaveLength(2);
    for (const subTask of stored.subTasks) {
      expect(subTask).toMatchObject({ status: 'SUCCEEDED', percent: 100, step: 'upgrade_firmware', vendorStatus: 'ok', errorCode: null });
      // The services_reply, then the 23 reports: all applied, in order.
      expect(subTask.events).toHaveLength(24);
      expect(subTask.events.every((e: any) => e.applied)).toBe(true);
      expect(subTask.events[0]).toMatchObject({ status: 'IN_PROGRESS' });
      expect(subTask.events[11]).toMatchObject({ status: 'IN_PROGRESS', percent: 100, step: 'download_firmware' });
      expect(subTask.events[12]).toMatchObject({ status: 'IN_PROGRESS', percent: 0, step: 'upgrade_firmware' });
      expect(subTask.events[23]).toMatchObject({ status: 'SUCCEEDED', percent: 100, step: 'upgrade_firmware' });
    }
  });

  test('--reject 312015: the task is REJECTED with that error code', async () => {
    const sn = newSn();
    const { dock: sim } = await dock({ gatewaySn: sn, reject: 312015, once: true });
    const created = await create({ gatewaySn: sn, devices: [device(sn)] });
    const summary = await within(sim.done, 10_000, 'the refusal');
    expect(summary.upgrades).toEqual([
      { bid: created.externalId, devices: [sn], outcome: 'rejected', result: 312015, eventsSent: 0, repliesReceived: 0, repliesMissing: 0 },
    ]);
    let stored: any;
    await eventually(async () => (stored = await task(created.id)).status !== 'PENDING', 10_000, 'the task to leave PENDING');
    expect(stored.status).toBe('REJECTED');
    expect(stored.subTasks[0]).toMatchObject({ status: 'REJECTED', errorCode: '312015' });
  });

  test('--fail-at 40: the task is FAILED at 40 % of the upgrade with 312022', async () => {
    const sn = newSn();
    const { dock: sim, output } = await dock({ gatewaySn: sn, failAt: 40, speed: 30, once: true });
    const created = await create({ gatewaySn: sn, devices: [device(sn)] });
    const summary = await within(sim.done, 20_000, 'the failure');
    expect(summary.upgrades).toEqual([
      { bid: created.externalId, devices: [sn], outcome: 'failed', result: FAILURE_RESULT, eventsSent: 16, repliesReceived: 16, repliesMissing: 0 },
    ]);
    expect(output.warnings).toEqual([]);
    const stored = await task(created.id);
    expect(stored.status).toBe('FAILED');
    expect(stored.subTasks[0]).toMatchObject({ status: 'FAILED', percent: 40, step: 'upgrade_firmware', errorCode: '312022', vendorStatus: 'failed' });
  });

  test('a second upgrade for a busy dock is REJECTED with 312014; the first goes on to SUCCEEDED', async () => {
    const sn = newSn();
    const { dock: sim } = await dock({ gatewaySn: sn, speed: 20 });
    const first = await create({ gatewaySn: sn, devices: [device(sn)] });
    await eventually(async () => (await task(first.id)).status === 'IN_PROGRESS', 10_000, 'the first upgrade to run');
    const second = await create({ gatewaySn: sn, devices: [device(sn)] });
    await eventually(async () => (await task(second.id)).status === 'REJECTED', 10_000, 'the second upgrade to be refused');
    expect((await task(second.id)).subTasks[0].errorCode).toBe(String(BUSY_RESULT));
    await eventually(() => sim.upgrades.length === 1, 20_000, 'the first upgrade to finish');
    expect((await task(first.id)).status).toBe('SUCCEEDED');
  });

  test('the Huawei sequence: firmware SUCCEEDED, software FAILED, one shadow event, the re-push recorded once', async () => {
    const ids = newHuaweiIds(`sim-${randomUUID().slice(0, 8)}`);
    const output = collectingOutput();
    const result = await runHuaweiSequence({ url: gateway.url, ids, output });
    expect(result.ok).toBe(true);
    expect(result.results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(output.warnings).toEqual([]);
    expect(output.lines.filter((l) => l.startsWith('→ #'))).toHaveLength(8);
    expect(output.lines.filter((l) => /^← #\d 200 ok$/.test(l))).toHaveLength(8);

    const { body } = await gateway.gql<{ upgradeTasks: any }>(
      `query($d: String) { upgradeTasks(filter: { source: HUAWEI, deviceId: $d }) {
        totalCount edges { node { externalId kind status progress appId
          subTasks { deviceId externalId status errorCode vendorStatus currentVersion targetVersion events { status vendorStatus applied } } } } } }`,
      { d: ids.deviceId },
    );
    expect(body.errors).toBeUndefined();
    const tasks = body.data!.upgradeTasks.edges.map((e: any) => e.node);
    expect(tasks).toHaveLength(2);
    const firmware = tasks.find((t: any) => t.kind === 'FIRMWARE');
    const software = tasks.find((t: any) => t.kind === 'SOFTWARE');
    expect(firmware).toMatchObject({ externalId: ids.firmware.operationId, status: 'SUCCEEDED', progress: 100, appId: 'AppID_SIM' });
    expect(firmware.subTasks).toHaveLength(1);
    expect(firmware.subTasks[0]).toMatchObject({ externalId: ids.firmware.subOperationId, status: 'SUCCEEDED', currentVersion: '1.6', errorCode: null });
    // downloading, downloaded, updating, SUCCESS: the re-pushed result is not a fifth event.
    expect(firmware.subTasks[0].events.map((e: any) => [e.vendorStatus, e.status])).toEqual([
      ['downloading', 'IN_PROGRESS'],
      ['downloaded', 'IN_PROGRESS'],
      ['updating', 'IN_PROGRESS'],
      ['SUCCESS', 'SUCCEEDED'],
    ]);
    expect(software).toMatchObject({ externalId: ids.software.operationId, status: 'FAILED' });
    expect(software.subTasks[0]).toMatchObject({ status: 'FAILED', errorCode: '7', vendorStatus: 'FAIL', targetVersion: '1.5' });
    expect(software.subTasks[0].events).toHaveLength(2);

    const shadows = await gateway.gql<{ shadowEvents: any }>(
      `query($d: String) { shadowEvents(deviceId: $d) { totalCount edges { node { deviceId serviceId status properties } } } }`,
      { d: ids.deviceId },
    );
    expect(shadows.body.data!.shadowEvents.totalCount).toBe(1);
    expect(shadows.body.data!.shadowEvents.edges[0].node).toEqual({
      deviceId: ids.deviceId,
      serviceId: 'Device',
      status: 'DELIVERED',
      properties: { 'Model Number': 1, 'Serial Number': 2, 'Firmware Version': '1.6' },
    });

    // The ledger keeps both copies of the result push: the first RECORDED, the re-push DUPLICATE.
    const rows = (await gateway.dataSource.query(
      `SELECT outcome FROM inbound_message WHERE channel = 'fwUpgradeResultNotify' AND payload LIKE ? ORDER BY id`,
      [`%${ids.firmware.operationId}%`],
    )) as { outcome: string }[];
    expect(rows.map((r) => r.outcome)).toEqual(['RECORDED', 'DUPLICATE']);
  });

  describe('the compiled command lines', () => {
    function run(script: string, args: string[]) {
      const child = spawn(process.execPath, [join(DIST, script), ...args], { env: { PATH: process.env.PATH ?? '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, out: () => stdout, err: () => stderr };
    }

    test('simulate:dock --once drives an upgrade to SUCCEEDED and exits 0', async () => {
      const sn = newSn();
      const proc = run('dock.js', ['--gateway-sn', sn, '--mqtt-url', gateway.mqttUrl, '--speed', '30', '--once']);
      try {
        await eventually(() => proc.out().includes('waiting for ota_create'), 10_000, 'the dock to listen');
        const created = await create({ gatewaySn: sn, devices: [device(sn)] });
        expect(await within(proc.exited, 20_000, 'the dock to exit')).toBe(0);
        expect(proc.err()).toBe('');
        const lines = proc.out().trim().split('\n');
        // One line per message sent or received: reply, 23 events, 23 replies, the ota_create, plus the first and the last two;
        // and for the inventory: update_topo, its status_reply, state of dock and aircraft at connect, the dock's new version after.
        expect(lines).toHaveLength(1 + 1 + 1 + 23 + 23 + 2 + 5);
        expect(lines.every((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l))).toBe(true);
        expect(proc.out()).toContain(`finished: ok (result 0); 23 events, 23 replies, 0 missing`);
        expect((await task(created.id)).status).toBe('SUCCEEDED');
      } finally {
        proc.child.kill('SIGKILL');
      }
    });

    test('simulate:dock stops cleanly on SIGTERM and SIGINT', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const proc = run('dock.js', ['--gateway-sn', newSn(), '--mqtt-url', gateway.mqttUrl]);
        try {
          await eventually(() => proc.out().includes('waiting for ota_create'), 10_000, 'the dock to listen');
          proc.child.kill(signal);
          expect(await within(proc.exited, 5000, 'the dock to exit')).toBe(0);
          expect(proc.out()).toContain(`${signal}: disconnecting`);
          expect(proc.out()).toMatch(/disconnected\n$/);
        } finally {
          proc.child.kill('SIGKILL');
        }
      }
    });

    test('simulate:dock with a bad flag prints the problem and the usage, exit code 2', async () => {
      const proc = run('dock.js', ['--gateway-sn', 'D', '--fail-at', '150']);
      expect(await proc.exited).toBe(2);
      expect(proc.err()).toMatch(/^simulate:dock: --fail-at must be a whole percent from 0 to 100 \(got 150\)\n\nUsage: npm run simulate:dock -- --gateway-sn <sn>/);
      expect(proc.out()).toBe('');
    });

    test('simulate:dock --help prints the usage, exit code 0', async () => {
      const proc = run('dock.js', ['--help']);
      expect(await proc.exited).toBe(0);
      expect(proc.out()).toContain('--fail-at <percent>');
    });

    test('simulate:huawei posts the sequence and exits 0; with a wrong token every push is refused and it exits 1', async () => {
      const ok = run('huawei.js', ['--url', gateway.url, '--delay', '0']);
      expect(await within(ok.exited, 20_000, 'simulate:huawei')).toBe(0);
      expect(ok.out().match(/← #\d 200 ok/g)).toHaveLength(8);
      expect(ok.err()).toBe('');

      const guarded = await startTestGateway({ WEBHOOK_TOKEN: 'right-token' });
      try {
        const refused = run('huawei.js', ['--url', guarded.url, '--token', 'wrong-token', '--delay', '0']);
        expect(await within(refused.exited, 20_000, 'simulate:huawei')).toBe(1);
        expect(refused.err().match(/WARNING ← #\d 401 /g)).toHaveLength(8);
        expect(refused.out()).toContain('?token=***');
        expect(refused.out() + refused.err()).not.toContain('wrong-token');

        const accepted = run('huawei.js', ['--url', guarded.url, '--token', 'right-token', '--delay', '0']);
        expect(await within(accepted.exited, 20_000, 'simulate:huawei')).toBe(0);
      } finally {
        await guarded.stop();
      }
    });

    test('simulate:huawei with no gateway to talk to exits 1 after the first push', async () => {
      const closed = await startTestGateway();
      const url = closed.url;
      await closed.stop();
      const proc = run('huawei.js', ['--url', url, '--delay', '0']);
      expect(await within(proc.exited, 20_000, 'simulate:huawei')).toBe(1);
      expect(proc.err()).toContain('← #1 no answer ECONNREFUSED');
      expect(proc.err()).toContain('stopped after push #1: the gateway did not answer');
    });
  });
});
