/**
 * The fleet inventory end to end: real MQTT.js clients play docks against the
 * embedded broker (client id = the dock's serial number, as DJI docks do),
 * Huawei pushes go over HTTP, a real graphql-ws client watches.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { InboundMessage, InboundOutcome } from '../src/store/entities';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';

const DEVICE_FIELDS = 'id source deviceId gatewaySn model modelName firmwareVersion softwareVersion consistencyUpgradeNeeded upgrading online lastSeenAt';
const DEVICE = `query Device($deviceId: String!, $source: UpgradeSource) { device(deviceId: $deviceId, source: $source) { ${DEVICE_FIELDS} subDevices { deviceId online } } }`;
const DEVICES = `query Devices($first: Int, $after: String, $filter: DeviceFilter) {
  devices(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${DEVICE_FIELDS} } } } }`;
const VERSIONS = `query Versions($model: String, $source: UpgradeSource) { firmwareVersions(model: $model, source: $source) { model modelName firmwareVersion count } }`;
const CHANGED = `subscription Changed($gatewaySn: String, $deviceId: String) { deviceChanged(gatewaySn: $gatewaySn, deviceId: $deviceId) { ${DEVICE_FIELDS} } }`;

let gateway: TestGateway;
const clients: MqttClient[] = [];

beforeAll(async () => {
  gateway = await startTestGateway({ DJI_REPLY_TIMEOUT_MS: '30000' });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await gateway?.stop();
});

const sn = (prefix: string) => `${prefix}${randomUUID().slice(0, 8).toUpperCase()}`;

/** A dock's MQTT connection; DJI docks use their serial number as client id. */
async function connectDock(dockSn: string): Promise<MqttClient & { received: { topic: string; json: any }[] }> {
  const client = await mqtt.connectAsync(gateway.mqttUrl, { clientId: dockSn, protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(client);
  const received: { topic: string; json: any }[] = [];
  client.on('message', (topic, payload) => received.push({ topic, json: JSON.parse(payload.toString()) }));
  await client.subscribeAsync([`sys/product/${dockSn}/status_reply`, `thing/product/${dockSn}/services`], { qos: 1 });
  return Object.assign(client, { received });
}

function topo(dock: string, subs: { sn: string; type?: number; sub_type?: number }[], type = 2) {
  return {
    tid: randomUUID(),
    bid: randomUUID(),
    timestamp: Date.now(),
    method: 'update_topo',
    data: {
      domain: '3',
      type,
      sub_type: 0,
      device_secret: 'x',
      nonce: 'y',
      thing_version: '1.1.2',
      sub_devices: subs.map((s) => ({ sn: s.sn, domain: '0', type: s.type ?? 91, sub_type: s.sub_type ?? 0, index: 'A' })),
    },
  };
}

function state(dock: string, data: Record<string, unknown>) {
  return { tid: randomUUID(), bid: randomUUID(), timestamp: Date.now(), gateway: dock, data };
}

async function publish(client: MqttClient, topic: string, payload: unknown) {
  await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
}

async function device(deviceId: string, source?: string): Promise<any> {
  const { body } = await gateway.gql<{ device: any }>(DEVICE, { deviceId, source });
  expect(body.errors).toBeUndefined();
  return body.data!.device;
}

async function devices(filter: Record<string, unknown>, first = 50, after?: string): Promise<any> {
  const { body } = await gateway.gql<{ devices: any }>(DEVICES, { filter, first, after });
  expect(body.errors).toBeUndefined();
  return body.data!.devices;
}

async function until(deviceId: string, check: (d: any) => boolean, what: string): Promise<any> {
  let last: any;
  await eventually(async () => check((last = await device(deviceId))), 10_000, `${what} (last: ${JSON.stringify(last)})`);
  return last;
}

test('topology in, status_reply out with the same tid and bid; dock and aircraft appear with models, online', async () => {
  const dockSn = sn('DOCK');
  const aircraftSn = sn('AC');
  const dock = await connectDock(dockSn);
  const message = topo(dockSn, [{ sn: aircraftSn, type: 91, sub_type: 1 }]);
  await publish(dock, `sys/product/${dockSn}/status`, message);
  await eventually(() => dock.received.some((m) => m.topic.endsWith('/status_reply')), 10_000, 'status_reply');
  const reply = dock.received.find((m) => m.topic === `sys/product/${dockSn}/status_reply`)!;
  expect(reply.json).toMatchObject({ tid: message.tid, bid: message.bid, method: 'update_topo', data: { result: 0 } });

  const d = await device(dockSn, 'DJI');
  expect(d).toMatchObject({ source: 'DJI', gatewaySn: dockSn, model: '3-2-0', modelName: 'DJI Dock 2', online: true, upgrading: false });
  expect(d.subDevices).toEqual([{ deviceId: aircraftSn, online: true }]);
  expect(await device(aircraftSn)).toMatchObject({ gatewaySn: dockSn, model: '0-91-1', modelName: 'Matrice 3TD', online: true });
});

test('versions and flags from state; unknown properties ignored; a state for a device never seen creates it', async () => {
  const dockSn = sn('DOCK');
  const aircraftSn = sn('AC');
  const dock = await connectDock(dockSn);
  // Never seen: no topology yet, the dock's own state creates it.
  await publish(dock, `thing/product/${dockSn}/state`, state(dockSn, { firmware_version: '10.01.0001', wind_speed: 3 }));
  expect(await until(dockSn, (d) => d?.firmwareVersion === '10.01.0001', 'dock created by its state')).toMatchObject({ model: null, gatewaySn: dockSn });
  // The broker lets a dock speak for an aircraft once it announced it.
  await publish(dock, `sys/product/${dockSn}/status`, topo(dockSn, [{ sn: aircraftSn }]));
  await until(aircraftSn, (d) => d?.online === true, 'aircraft announced');
  await publish(dock, `thing/product/${aircraftSn}/state`, state(dockSn, { firmware_version: '10.01.3202', compatible_status: 1, firmware_upgrade_status: 1, height: 3 }));
  const aircraft = await until(aircraftSn, (d) => d?.firmwareVersion === '10.01.3202', 'state recorded');
  expect(aircraft).toMatchObject({ gatewaySn: dockSn, consistencyUpgradeNeeded: true, upgrading: true, model: '0-91-0' });
  await publish(dock, `thing/product/${aircraftSn}/state`, state(dockSn, { compatible_status: 0, firmware_upgrade_status: 0 }));
  expect(await until(aircraftSn, (d) => d.consistencyUpgradeNeeded === false, 'second state')).toMatchObject({
    firmwareVersion: '10.01.3202',
    upgrading: false,
  });
});

test('a successful upgrade sets the target version at once; a later state report wins', async () => {
  const dockSn = sn('DOCK');
  const dock = await connectDock(dockSn);
  await publish(dock, `sys/product/${dockSn}/status`, topo(dockSn, []));
  await publish(dock, `thing/product/${dockSn}/state`, state(dockSn, { firmware_version: '10.01.0001' }));
  await until(dockSn, (d) => d?.firmwareVersion === '10.01.0001', 'first version');

  const create = await gateway.gql<{ createFirmwareUpgrade: any }>(
    `mutation($input: CreateFirmwareUpgradeInput!) { createFirmwareUpgrade(input: $input) { id subTasks { nodes { id device { deviceId firmwareVersion } } } } }`,
    {
      input: {
        gatewaySn: dockSn,
        devices: [
          {
            sn: dockSn,
            productVersion: '10.01.3202',
            fileUrl: 'https://oss.example/fw/dock.zip',
            md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
            fileSize: 1000,
            fileName: 'dock.zip',
            firmwareUpgradeType: 'REGULAR',
          },
        ],
      },
    },
  );
  expect(create.body.errors).toBeUndefined();
  expect(create.body.data!.createFirmwareUpgrade.subTasks.nodes[0].device).toEqual({ deviceId: dockSn, firmwareVersion: '10.01.0001' });
  await eventually(() => dock.received.some((m) => m.topic.endsWith('/services')), 10_000, 'ota_create');
  const ota = dock.received.find((m) => m.topic.endsWith('/services'))!.json;
  await publish(dock, `thing/product/${dockSn}/services_reply`, { tid: ota.tid, bid: ota.bid, method: 'ota_create', data: { result: 0, output: { status: 'in_progress' } } });
  expect(await until(dockSn, (d) => d.upgrading === true, 'upgrading')).toMatchObject({ firmwareVersion: '10.01.0001' });
  await publish(dock, `thing/product/${dockSn}/events`, {
    tid: randomUUID(),
    bid: ota.bid,
    timestamp: Date.now(),
    method: 'ota_progress',
    data: { result: 0, output: { status: 'ok', progress: { percent: 100 } } },
  });
  expect(await until(dockSn, (d) => d.firmwareVersion === '10.01.3202', 'target version')).toMatchObject({ upgrading: false });
  await publish(dock, `thing/product/${dockSn}/state`, state(dockSn, { firmware_version: '10.01.3203' }));
  await until(dockSn, (d) => d.firmwareVersion === '10.01.3203', 'state wins');
});

test('an aircraft leaves (empty sub_devices), rejoins, and moves to another dock', async () => {
  const dockA = sn('DOCKA');
  const dockB = sn('DOCKB');
  const aircraftSn = sn('AC');
  const a = await connectDock(dockA);
  const b = await connectDock(dockB);
  await publish(a, `sys/product/${dockA}/status`, topo(dockA, [{ sn: aircraftSn }]));
  await until(aircraftSn, (d) => d?.online === true, 'joined A');
  await publish(a, `sys/product/${dockA}/status`, topo(dockA, []));
  expect(await until(aircraftSn, (d) => d.online === false, 'left A')).toMatchObject({ gatewaySn: dockA });
  expect((await device(dockA)).subDevices).toEqual([{ deviceId: aircraftSn, online: false }]);
  await publish(a, `sys/product/${dockA}/status`, topo(dockA, [{ sn: aircraftSn }]));
  await until(aircraftSn, (d) => d.online === true, 'rejoined A');
  await publish(b, `sys/product/${dockB}/status`, topo(dockB, [{ sn: aircraftSn }], 3));
  expect(await until(aircraftSn, (d) => d.gatewaySn === dockB, 'moved to B')).toMatchObject({ online: true });
  expect((await device(dockA)).subDevices).toEqual([]);
  expect((await device(dockB)).subDevices).toEqual([{ deviceId: aircraftSn, online: true }]);
  expect(await device(dockB)).toMatchObject({ model: '3-3-0', modelName: 'DJI Dock 3' });
});

test('a dock is online while connected; its aircraft go offline with it; it comes back when it reconnects', async () => {
  const dockSn = sn('DOCK');
  const aircraftSn = sn('AC');
  const dock = await connectDock(dockSn);
  await publish(dock, `sys/product/${dockSn}/status`, topo(dockSn, [{ sn: aircraftSn }]));
  await until(aircraftSn, (d) => d?.online === true, 'aircraft online');
  await dock.endAsync();
  await until(dockSn, (d) => d.online === false, 'dock offline');
  expect(await device(aircraftSn)).toMatchObject({ online: false });
  const again = await connectDock(dockSn);
  await until(dockSn, (d) => d.online === true, 'dock online again');
  expect(await device(aircraftSn)).toMatchObject({ online: false });
  await publish(again, `sys/product/${dockSn}/status`, topo(dockSn, [{ sn: aircraftSn }]));
  await until(aircraftSn, (d) => d.online === true, 'aircraft back per topology');
});

test('Huawei: a device appears with its first push; firmware and software versions come from result pushes, apart', async () => {
  const deviceId = `hw-${randomUUID()}`;
  const post = async (body: Record<string, unknown>) => {
    const response = await fetch(`${gateway.url}/v1.0.0/messageReceiver`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, appId: 'App', ...body }),
    });
    expect(response.status).toBe(200);
  };
  await post({ notifyType: 'fwUpgradeStateChangeNotify', operationId: `op-${deviceId}`, subOperationId: 's1', step: '1', stepDesc: 'downloading' });
  expect(await device(deviceId, 'HUAWEI')).toMatchObject({ source: 'HUAWEI', firmwareVersion: null, upgrading: true, online: null });
  await post({
    notifyType: 'fwUpgradeResultNotify',
    operationId: `op-${deviceId}`,
    subOperationId: 's1',
    curVersion: '1.6',
    targetVersion: '1.6',
    sourceVersion: '1.3',
    status: 'SUCCESS',
  });
  expect(await device(deviceId)).toMatchObject({ firmwareVersion: '1.6', softwareVersion: null, upgrading: false });
  await post({
    notifyType: 'swUpgradeResultNotify',
    operationId: `sw-${deviceId}`,
    subOperationId: 's2',
    curVersion: '2.0',
    targetVersion: '2.1',
    sourceVersion: '2.0',
    swUpgradeResult: 'FAIL',
    resultDesc: 'FAIL',
    errorCode: '7',
  });
  expect(await device(deviceId)).toMatchObject({ firmwareVersion: '1.6', softwareVersion: '2.0' });

  // A shadow push is a push too: its device appears, with nothing known of its versions.
  const shadowOnly = `hw-${randomUUID()}`;
  const response = await fetch(`${gateway.url}/v1.0.0/messageReceiver`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ notifyType: 'deviceDesiredPropertiesModifyStatusChanged', deviceId: shadowOnly, serviceId: 'svc', properties: { a: 1 }, status: 'DELIVERED' }),
  });
  expect(response.status).toBe(200);
  expect(await device(shadowOnly, 'HUAWEI')).toMatchObject({ deviceId: shadowOnly, firmwareVersion: null, softwareVersion: null });
});

test('Device.upgrades lists the upgrades of its own platform: a DJI device and a Huawei one with the same id do not share them', async () => {
  const shared = sn('SAME');
  const dock = await connectDock(shared);
  await publish(dock, `thing/product/${shared}/state`, state(shared, { firmware_version: '10.01.0001' }));
  await until(shared, (d) => d?.firmwareVersion === '10.01.0001', 'the DJI device');
  const response = await fetch(`${gateway.url}/v1.0.0/messageReceiver`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ notifyType: 'fwUpgradeStateChangeNotify', deviceId: shared, appId: 'App', operationId: `op-${shared}`, subOperationId: 's1', step: '1', stepDesc: 'downloading' }),
  });
  expect(response.status).toBe(200);
  const UPGRADES = `query ($deviceId: String!, $source: UpgradeSource) { device(deviceId: $deviceId, source: $source) { source upgrades { totalCount nodes { task { source } } } } }`;
  const of = async (source: string) => (await gateway.gql<{ device: any }>(UPGRADES, { deviceId: shared, source })).body.data!.device;
  await eventually(async () => (await of('HUAWEI'))?.upgrades.totalCount === 1, 10_000, 'the Huawei device and its upgrade');
  expect((await of('HUAWEI')).upgrades.nodes).toEqual([{ task: { source: 'HUAWEI' } }]);
  expect((await of('DJI')).upgrades).toEqual({ totalCount: 0, nodes: [] });
});

test('every filter, keyset pages, and firmwareVersions counts', async () => {
  const prefix = sn('F');
  const docks = [`${prefix}D1`, `${prefix}D2`, `${prefix}D3`];
  const aircraft = [`${prefix}A1`, `${prefix}A2`, `${prefix}A3`];
  const conns = await Promise.all(docks.map((d) => connectDock(d)));
  for (let i = 0; i < 3; i++) {
    await publish(conns[i], `sys/product/${docks[i]}/status`, topo(docks[i], [{ sn: aircraft[i], type: 67, sub_type: i === 2 ? 1 : 0 }], 1));
    await publish(conns[i], `thing/product/${docks[i]}/state`, state(docks[i], { firmware_version: i === 0 ? 'D-1' : 'D-2' }));
    await publish(conns[i], `thing/product/${aircraft[i]}/state`, state(docks[i], { firmware_version: 'A-1', compatible_status: i === 1 ? 1 : 0, firmware_upgrade_status: i === 2 ? 1 : 0 }));
  }
  await eventually(async () => (await devices({ deviceIdPrefix: prefix, firmwareVersion: 'A-1' })).totalCount === 3, 10_000, 'fleet recorded');
  const ids = async (filter: Record<string, unknown>) =>
    (await devices({ deviceIdPrefix: prefix, ...filter })).edges.map((e: any) => e.node.deviceId).sort();

  expect(await ids({})).toEqual([...aircraft, ...docks].sort());
  expect(await ids({ source: 'DJI' })).toHaveLength(6);
  expect(await ids({ source: 'HUAWEI' })).toEqual([]);
  expect(await ids({ gatewaySn: docks[1] })).toEqual([aircraft[1], docks[1]].sort());
  expect(await ids({ model: '3-1-0' })).toEqual(docks);
  expect(await ids({ model: '0-67-1' })).toEqual([aircraft[2]]);
  expect(await ids({ firmwareVersion: 'D-2' })).toEqual([docks[1], docks[2]]);
  expect(await ids({ firmwareVersionNot: 'A-1' })).toEqual(docks);
  expect(await ids({ consistencyUpgradeNeeded: true })).toEqual([aircraft[1]]);
  expect(await ids({ upgrading: true })).toEqual([aircraft[2]]);
  expect(await ids({ online: true })).toHaveLength(6);
  await conns[0].endAsync();
  await eventually(async () => (await ids({ online: false })).length === 2, 10_000, 'dock 1 offline');
  expect(await ids({ online: false })).toEqual([aircraft[0], docks[0]].sort());
  expect(await ids({ model: '3-1-0', firmwareVersion: 'D-2', online: true })).toEqual([docks[1], docks[2]]);
  // LIKE wildcards in a prefix are literal.
  expect(await ids({ deviceIdPrefix: `${prefix}_` })).toEqual([]);

  // Keyset pages: stable order, no overlap, no gap.
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await devices({ deviceIdPrefix: prefix }, 4, after);
    expect(page.totalCount).toBe(6);
    seen.push(...page.edges.map((e: any) => e.node.deviceId));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  expect(seen).toEqual([...aircraft, ...docks].sort());

  const { body } = await gateway.gql<{ firmwareVersions: any[] }>(VERSIONS, { model: '3-1-0' });
  expect(body.errors).toBeUndefined();
  const counts = Object.fromEntries(body.data!.firmwareVersions.map((r) => [r.firmwareVersion, r]));
  expect(counts['D-1']).toMatchObject({ model: '3-1-0', modelName: 'DJI Dock', count: 1 });
  expect(counts['D-2'].count).toBeGreaterThanOrEqual(2);
  const all = await gateway.gql<{ firmwareVersions: any[] }>(VERSIONS, {});
  expect(all.body.data!.firmwareVersions.find((r) => r.model === '0-67-0' && r.firmwareVersion === 'A-1')?.count).toBeGreaterThanOrEqual(2);
});

test('bad arguments are refused with BAD_USER_INPUT', async () => {
  for (const [variables, field] of [
    [{ first: 0 }, 'first'],
    [{ first: 201 }, 'first'],
    [{ after: 'nonsense' }, 'after'],
    [{ filter: { deviceIdPrefix: 'x'.repeat(257) } }, 'filter.deviceIdPrefix'],
  ] as const) {
    const { body } = await gateway.gql(DEVICES, variables);
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field })] });
  }
});

test('deviceChanged delivers changes live, filtered by dock', async () => {
  const dockSn = sn('DOCK');
  const other = sn('DOCK');
  const ws = gateway.ws();
  const changes = collect<{ deviceChanged: any }>(ws, CHANGED, { gatewaySn: dockSn });
  await subscriptionsRunning(gateway, 1);
  const dock = await connectDock(dockSn);
  const otherDock = await connectDock(other);
  await publish(otherDock, `sys/product/${other}/status`, topo(other, []));
  await publish(dock, `sys/product/${dockSn}/status`, topo(dockSn, []));
  await publish(dock, `thing/product/${dockSn}/state`, state(dockSn, { firmware_version: 'LIVE-1' }));
  await changes.until(2);
  await eventually(() => changes.received.some((c) => c.deviceChanged.firmwareVersion === 'LIVE-1'), 10_000, 'version change');
  expect(changes.received.every((c) => c.deviceChanged.gatewaySn === dockSn)).toBe(true);
  expect(changes.received[0].deviceChanged).toMatchObject({ deviceId: dockSn, online: true, model: '3-2-0' });
  changes.unsubscribe();
});

test('malformed update_topo and state are kept in the ledger as REJECTED and change nothing', async () => {
  const dockSn = sn('DOCK');
  const dock = await connectDock(dockSn);
  await publish(dock, `sys/product/${dockSn}/status`, { ...topo(dockSn, []), tid: `bad-${dockSn}`, data: { domain: 3, type: 'x', sub_type: 0, sub_devices: [] } });
  await publish(dock, `thing/product/${dockSn}/state`, state(dockSn, { firmware_version: 42 }));
  await publish(dock, `thing/product/${dockSn}/state`, 'not json');
  const rows = async () =>
    gateway.dataSource
      .getRepository(InboundMessage)
      .createQueryBuilder('m')
      .where('m.payload LIKE :sn', { sn: `%${dockSn}%` })
      .orWhere('m.payload = :raw', { raw: 'not json' })
      .getMany();
  await eventually(async () => (await rows()).length >= 3, 10_000, 'ledger rows');
  expect((await rows()).every((r) => r.outcome === InboundOutcome.REJECTED)).toBe(true);
  expect(await device(dockSn)).toBeNull();
});
