import { UpgradeStatus } from '../src/domain';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { djiEnvelope, huaweiEnvelope } from './support/observations';

const PROGRESS = /* GraphQL */ `
  subscription($taskId: ID, $gatewaySn: String, $deviceId: String, $after: String) {
    upgradeProgress(taskId: $taskId, gatewaySn: $gatewaySn, deviceId: $deviceId, after: $after) {
      cursor
      task { id externalId gatewaySn }
      subTask { deviceId percent }
      event { id percent }
    }
  }
`;

let gateway: TestGateway;
beforeEach(async () => {
  gateway = await startTestGateway();
});
afterEach(() => gateway.stop());

const taskIdOf = async (externalId: string) =>
  (await gateway.gql<any>(`query($f: UpgradeTaskFilter) { upgradeTasks(filter: $f) { edges { node { id externalId } } } }`, {})).body.data.upgradeTasks.edges.find(
    (e: any) => e.node.externalId === externalId,
  ).node.id as string;

test('filtering happens on the server: each subscriber gets only its task, gateway or device', async () => {
  await gateway.recorder.record(djiEnvelope({ bid: 'iso-a', gatewaySn: 'DOCK-A', status: UpgradeStatus.SENT }));
  await gateway.recorder.record(huaweiEnvelope({ operationId: 'iso-h', deviceId: 'dev-h', status: UpgradeStatus.PENDING }));
  const taskA = await taskIdOf('iso-a');

  const client = gateway.ws();
  const byTask = collect<any>(client, PROGRESS, { taskId: taskA });
  const byGateway = collect<any>(client, PROGRESS, { gatewaySn: 'DOCK-B' });
  const byDevice = collect<any>(client, PROGRESS, { deviceId: 'dev-h' });
  const everything = collect<any>(client, PROGRESS);
  await subscriptionsRunning(gateway, 4);

  await gateway.recorder.record(djiEnvelope({ bid: 'iso-a', gatewaySn: 'DOCK-A', status: UpgradeStatus.IN_PROGRESS, percent: 1 }));
  await gateway.recorder.record(djiEnvelope({ bid: 'iso-b', gatewaySn: 'DOCK-B', status: UpgradeStatus.IN_PROGRESS, percent: 2 }));
  await gateway.recorder.record(huaweiEnvelope({ operationId: 'iso-h', deviceId: 'dev-h', status: UpgradeStatus.IN_PROGRESS, percent: 3 }));
  await everything.until(3);
  await new Promise((resolve) => setTimeout(resolve, 100));

  expect(byTask.received.map((m) => m.upgradeProgress.event.percent)).toEqual([1]);
  expect(byGateway.received.map((m) => m.upgradeProgress.event.percent)).toEqual([2]);
  expect(byDevice.received.map((m) => m.upgradeProgress.event.percent)).toEqual([3]);
  expect(everything.received.map((m) => m.upgradeProgress.event.percent)).toEqual([1, 2, 3]);
});

test('a resumed subscription gets exactly the events it missed, in order, then live ones', async () => {
  const record = (percent: number, bid = 'resume-1') =>
    gateway.recorder.record(djiEnvelope({ bid, gatewaySn: 'DOCK-R', status: UpgradeStatus.IN_PROGRESS, percent, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, percent)) }));

  // The frontend saw events 1..3, then lost its socket.
  const first = collect<any>(gateway.ws(), PROGRESS, { gatewaySn: 'DOCK-R' });
  await subscriptionsRunning(gateway, 1);
  for (const p of [1, 2, 3]) await record(p);
  const seen = await first.until(3);
  const lastSeen = seen[2].upgradeProgress.cursor;
  first.unsubscribe();

  // Meanwhile 4..6 were recorded (and one for another dock, which it must not get).
  for (const p of [4, 5]) await record(p);
  await gateway.recorder.record(djiEnvelope({ bid: 'other', gatewaySn: 'DOCK-X', status: UpgradeStatus.IN_PROGRESS, percent: 99 }));
  await record(6);

  // Reconnect with the last cursor seen: replay of 4..6, then live 7 and 8, with events recorded during the replay too.
  const resumed = collect<any>(gateway.ws(), PROGRESS, { gatewaySn: 'DOCK-R', after: lastSeen });
  const during = Promise.all([record(7), record(8)]);
  await during;
  const received = await resumed.until(5);
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(resumed.received.map((m) => m.upgradeProgress.event.percent)).toEqual([4, 5, 6, 7, 8]);
  expect(new Set(received.map((m) => m.upgradeProgress.cursor)).size).toBe(5);
  expect(new Set(received.map((m) => m.upgradeProgress.event.id)).size).toBe(5);
  expect(resumed.errors).toEqual([]);
});

test('the event id works as `after` too, resuming at the same place as its cursor', async () => {
  const client = gateway.ws();
  const first = collect<any>(client, PROGRESS, { gatewaySn: 'DOCK-E' });
  await subscriptionsRunning(gateway, 1);
  for (const percent of [1, 2]) await gateway.recorder.record(djiEnvelope({ bid: 'by-id', gatewaySn: 'DOCK-E', status: UpgradeStatus.IN_PROGRESS, percent }));
  const [one] = await first.until(2);
  const byId = collect<any>(client, PROGRESS, { gatewaySn: 'DOCK-E', after: one.upgradeProgress.event.id });
  const byCursor = collect<any>(client, PROGRESS, { gatewaySn: 'DOCK-E', after: one.upgradeProgress.cursor });
  expect((await byId.until(1)).map((m) => m.upgradeProgress.event.percent)).toEqual([2]);
  expect((await byCursor.until(1)).map((m) => m.upgradeProgress.event.percent)).toEqual([2]);
});

test('after that is not a cursor is refused with BAD_USER_INPUT', async () => {
  const sub = collect<any>(gateway.ws(), PROGRESS, { after: 'yesterday' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(JSON.stringify(sub.errors)).toContain('BAD_USER_INPUT');
});

test('shadowStatusChanged filters by device', async () => {
  const client = gateway.ws();
  const mine = collect<any>(client, `subscription { shadowStatusChanged(deviceId: "sd-1") { deviceId properties status } }`);
  await subscriptionsRunning(gateway, 1);
  for (const deviceId of ['sd-2', 'sd-1']) {
    await gateway.recorder.record({
      source: 'HUAWEI' as never, channel: 'deviceDesiredPropertiesModifyStatusChanged', dedupeKey: `s-${deviceId}`, raw: '{}', receivedAt: new Date(),
      content: { kind: 'observation', observation: { type: 'shadow', source: 'HUAWEI' as never, deviceId, serviceId: 'Device', properties: { 'Firmware Version': 'v1' }, status: 'FAILED' as never } },
    });
  }
  const [event] = await mine.until(1);
  expect(event.shadowStatusChanged).toEqual({ deviceId: 'sd-1', properties: { 'Firmware Version': 'v1' }, status: 'FAILED' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(mine.received).toHaveLength(1);
});

test('twelve shadowStatusChanged subscribers print no MaxListenersExceededWarning', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    const client = gateway.ws();
    const subs = Array.from({ length: 12 }, () => collect<any>(client, `subscription { shadowStatusChanged { deviceId } }`));
    await subscriptionsRunning(gateway, 12);
    await gateway.recorder.record({
      source: 'HUAWEI' as never, channel: 'deviceDesiredPropertiesModifyStatusChanged', dedupeKey: 'twelve', raw: '{}', receivedAt: new Date(),
      content: { kind: 'observation', observation: { type: 'shadow', source: 'HUAWEI' as never, deviceId: 'sd-12', serviceId: 'Device', properties: {}, status: 'DELIVERED' as never } },
    });
    await Promise.all(subs.map((s) => s.until(1)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
  } finally {
    process.off('warning', onWarning);
  }
});

test('fromStart replays a task from its beginning, and needs a taskId', async () => {
  for (const percent of [10, 20]) await gateway.recorder.record(djiEnvelope({ bid: 'from-start', gatewaySn: 'DOCK-S', status: UpgradeStatus.IN_PROGRESS, percent }));
  const taskId = await taskIdOf('from-start');
  const client = gateway.ws();
  const sub = collect<any>(client, `subscription($t: ID) { upgradeProgress(taskId: $t, fromStart: true) { event { percent } } }`, { t: taskId });
  expect((await sub.until(2)).map((m) => m.upgradeProgress.event.percent)).toEqual([10, 20]);
  await gateway.recorder.record(djiEnvelope({ bid: 'from-start', gatewaySn: 'DOCK-S', status: UpgradeStatus.IN_PROGRESS, percent: 30 }));
  expect((await sub.until(3)).map((m) => m.upgradeProgress.event.percent)).toEqual([10, 20, 30]);
  const refused = collect<any>(client, `subscription { upgradeProgress(fromStart: true) { cursor } }`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(JSON.stringify(refused.errors)).toContain('BAD_USER_INPUT');
});
