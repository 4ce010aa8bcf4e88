import { TASK_QUERY, TASKS_QUERY } from '../dashboard/src/graphql';
import { UpgradeStatus } from '../src/domain';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { rowIdOf } from './support/relay';
import { huaweiEnvelope } from './support/observations';
import { packageInput, seedDevices } from './support/rollouts';

/*
 * Relay Global Object Identification and Cursor Connections, over real HTTP
 * against a gateway with a SQLite file.
 */
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
  // One task with 7 devices, each with 3 events; five more tasks; two shadow events.
  for (let d = 0; d < 7; d++) {
    for (const [status, percent] of [[UpgradeStatus.IN_PROGRESS, 10], [UpgradeStatus.IN_PROGRESS, 50], [UpgradeStatus.SUCCEEDED, 100]] as const) {
      await gateway.recorder.record(huaweiEnvelope({ operationId: 'relay-op', deviceId: `dev-${d}`, status, percent }));
    }
  }
  for (let i = 0; i < 5; i++) await gateway.recorder.record(huaweiEnvelope({ operationId: `other-${i}`, deviceId: `o-${i}`, status: UpgradeStatus.PENDING }));
  for (let i = 0; i < 2; i++) {
    await gateway.recorder.record({
      source: 'HUAWEI' as never, channel: 'deviceDesiredPropertiesModifyStatusChanged', dedupeKey: `relay-shadow-${i}`, raw: '{}', receivedAt: new Date(),
      content: { kind: 'observation', observation: { type: 'shadow', source: 'HUAWEI' as never, deviceId: 'shadow-dev', serviceId: 'Device', properties: { n: i }, status: 'DELIVERED' as never } },
    });
  }
  // Two docks in the inventory, a package for their model, and a rollout over them (SCHEDULED: nothing is sent).
  await seedDevices(gateway, [
    { deviceId: 'RELAYDOCK1', model: '3-2-0', firmwareVersion: '10.00.0001' },
    { deviceId: 'RELAYDOCK2', model: '3-2-0', firmwareVersion: '10.00.0001' },
  ]);
});
afterAll(() => gateway.stop());

async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const { body } = await gateway.gql<any>(query, variables);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

async function relayTask() {
  const data = await ok(`{ upgradeTasks(filter: { deviceId: "dev-0" }) { nodes { id externalId
    subTasks(first: 1) { nodes { id deviceId events(first: 1) { nodes { id status } } } } } } }`);
  return data.upgradeTasks.nodes[0];
}

/** Each Node type's sample: an id the API gave out and what `node(id)` must answer for it. */
type Sample = { id: string; fields: Record<string, unknown> };
const NODE_FIELDS = `__typename id
  ... on UpgradeTask { externalId } ... on UpgradeSubTask { deviceId } ... on ProgressEvent { status } ... on ShadowEvent { serviceId }
  ... on Device { deviceId source } ... on FirmwarePackage { model version } ... on Rollout { name rolloutStatus: status } ... on RolloutTarget { deviceId targetStatus: status }`;

let rolloutSamples: Promise<{ device: Sample; pkg: Sample; rollout: Sample; target: Sample }> | undefined;

/** A package and a rollout made through the API with the ids it gives out (once per file). */
function rolloutObjects() {
  rolloutSamples ??= (async () => {
    const devices = (await ok(`{ devices(first: 2, filter: { deviceIdPrefix: "RELAYDOCK" }) { edges { node { id deviceId source } } } }`)).devices.edges.map(
      (e: any) => e.node,
    );
    const pkg = (await ok(`mutation($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id model version } }`, {
      input: packageInput('3-2-0', '10.00.0002'),
    })).registerFirmwarePackage;
    // createRollout takes the ids `id` returns: the package's, and the devices' (a deviceId works as well).
    const rollout = (await ok(`mutation($input: CreateRolloutInput!) { createRollout(input: $input) { id name status
      targets(first: 5) { edges { node { id deviceId status } } } } }`, {
      input: { name: 'relay', packageIds: [pkg.id], target: { deviceIds: [devices[0].id, devices[1].deviceId] } },
    })).createRollout;
    const target = rollout.targets.edges[0].node;
    expect(rollout.targets.edges.map((e: any) => e.node.deviceId)).toEqual(['RELAYDOCK1', 'RELAYDOCK2']);
    const { id: deviceId, ...device } = devices[0];
    return {
      device: { id: deviceId, fields: device },
      pkg: { id: pkg.id, fields: { model: pkg.model, version: pkg.version } },
      rollout: { id: rollout.id, fields: { name: 'relay', rolloutStatus: 'SCHEDULED' } },
      target: { id: target.id, fields: { deviceId: target.deviceId, targetStatus: target.status } },
    };
  })();
  return rolloutSamples;
}

/** One sample per Node type. A type that implements Node without one here fails the test below. */
const SAMPLES: Record<string, () => Promise<Sample>> = {
  UpgradeTask: async () => ({ id: (await relayTask()).id, fields: { externalId: 'relay-op' } }),
  UpgradeSubTask: async () => ({ id: (await relayTask()).subTasks.nodes[0].id, fields: { deviceId: 'dev-0' } }),
  ProgressEvent: async () => ({ id: (await relayTask()).subTasks.nodes[0].events.nodes[0].id, fields: { status: 'IN_PROGRESS' } }),
  ShadowEvent: async () => ({ id: (await ok(`{ shadowEvents(first: 1) { nodes { id } } }`)).shadowEvents.nodes[0].id, fields: { serviceId: 'Device' } }),
  Device: async () => (await rolloutObjects()).device,
  FirmwarePackage: async () => (await rolloutObjects()).pkg,
  Rollout: async () => (await rolloutObjects()).rollout,
  RolloutTarget: async () => (await rolloutObjects()).target,
};

test('node(id) and nodes(ids) round-trip every type that implements Node in the schema', async () => {
  const types: string[] = (await ok(`{ __type(name: "Node") { possibleTypes { name } } }`)).__type.possibleTypes.map((t: { name: string }) => t.name);
  expect(types.length).toBeGreaterThanOrEqual(8);
  // A new Node type needs a sample here: node(id) must find it back.
  expect(types.filter((t) => !(t in SAMPLES))).toEqual([]);
  const samples = await Promise.all(types.map(async (type) => ({ type, ...(await SAMPLES[type]()) })));
  const query = `query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`;
  for (const { type, id, fields } of samples) {
    expect({ type, node: (await ok(query, { id })).node }).toEqual({ type, node: { __typename: type, id, ...fields } });
  }
  const all = await ok(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: samples.map((s) => s.id) });
  expect(all.nodes).toEqual(samples.map((s) => ({ __typename: s.type, id: s.id })));
  // Globally unique and opaque.
  expect(new Set(samples.map((s) => s.id)).size).toBe(samples.length);
  for (const { id } of samples) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
});

test('the arguments that name a device, package or rollout take its id (and the raw values they took before)', async () => {
  const { device, pkg, rollout } = await rolloutObjects();
  const byId = await ok(`query($d: String!) { device(deviceId: $d) { id deviceId } }`, { d: device.id });
  const bySn = await ok(`query($d: String!) { device(deviceId: $d) { id deviceId } }`, { d: 'RELAYDOCK1' });
  expect(byId.device).toEqual({ id: device.id, deviceId: 'RELAYDOCK1' });
  expect(bySn.device).toEqual(byId.device);
  expect((await ok(`query($d: String!) { device(deviceId: $d, source: HUAWEI) { id } }`, { d: device.id })).device).toBeNull();
  expect((await ok(`query($id: ID!) { firmwarePackage(id: $id) { id } }`, { id: pkg.id })).firmwarePackage).toEqual({ id: pkg.id });
  expect((await ok(`query($id: ID!) { rollout(id: $id) { id } }`, { id: rollout.id })).rollout).toEqual({ id: rollout.id });
  // The row id an older client kept still names the rollout.
  expect((await ok(`query($id: ID!) { rollout(id: $id) { id } }`, { id: rowIdOf(rollout.id) })).rollout).toEqual({ id: rollout.id });
  // A command finds the rollout by its id (a SCHEDULED rollout cannot pause) …
  const pause = `mutation($id: ID!) { pauseRollout(id: $id) { id } }`;
  expect((await gateway.gql(pause, { id: rollout.id })).body.errors?.[0].extensions?.code).toBe('ROLLOUT_STATE_CONFLICT');
  // … and an id of another type names no rollout, nor package.
  expect((await gateway.gql(pause, { id: pkg.id })).body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect((await ok(`query($id: ID!) { firmwarePackage(id: $id) { id } }`, { id: rollout.id })).firmwarePackage).toBeNull();
  const { body } = await gateway.gql(`mutation($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`, {
    input: { name: 'wrong ids', packageIds: [rollout.id], target: { deviceIds: ['RELAYDOCK1'] } },
  });
  expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
});

test('node(id) answers the four kinds of rows of an upgrade: UpgradeTask, UpgradeSubTask, ProgressEvent, ShadowEvent', async () => {
  const task = await relayTask();
  const subTask = task.subTasks.nodes[0];
  const event = subTask.events.nodes[0];
  const shadow = (await ok(`{ shadowEvents(first: 1) { nodes { id deviceId } } }`)).shadowEvents.nodes[0];
  const query = `query($id: ID!) { node(id: $id) { __typename id
    ... on UpgradeTask { externalId } ... on UpgradeSubTask { deviceId } ... on ProgressEvent { status } ... on ShadowEvent { serviceId } } }`;
  expect((await ok(query, { id: task.id })).node).toEqual({ __typename: 'UpgradeTask', id: task.id, externalId: 'relay-op' });
  expect((await ok(query, { id: subTask.id })).node).toEqual({ __typename: 'UpgradeSubTask', id: subTask.id, deviceId: 'dev-0' });
  expect((await ok(query, { id: event.id })).node).toEqual({ __typename: 'ProgressEvent', id: event.id, status: 'IN_PROGRESS' });
  expect((await ok(query, { id: shadow.id })).node).toEqual({ __typename: 'ShadowEvent', id: shadow.id, serviceId: 'Device' });
  // Opaque, and unique across types even where the row numbers are the same.
  const ids = [task.id, subTask.id, event.id, shadow.id];
  expect(new Set(ids).size).toBe(4);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  expect((await ok(query, { id: 'not-an-id' })).node).toBeNull();
});

test('nodes(ids) answers in order with null for unknown ids, and is bounded', async () => {
  const task = await relayTask();
  const data = await ok(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: [task.subTasks.nodes[0].id, 'nope', task.id] });
  expect(data.nodes).toEqual([{ id: task.subTasks.nodes[0].id }, null, { id: task.id }]);
  const { body } = await gateway.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, () => task.id) });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

test('ids given back to the API find the same objects (upgradeTask, the sub-task filter)', async () => {
  const task = await relayTask();
  expect((await ok(`query($id: ID!) { upgradeTask(id: $id) { externalId } }`, { id: task.id })).upgradeTask).toEqual({ externalId: 'relay-op' });
  const subs = await ok(`query($t: ID) { upgradeSubTasks(filter: { taskId: $t }, first: 50) { totalCount } }`, { t: task.id });
  expect(subs.upgradeSubTasks.totalCount).toBe(7);
  // An id of another type names no task.
  expect((await ok(`query($id: ID!) { upgradeTask(id: $id) { id } }`, { id: task.subTasks.nodes[0].id })).upgradeTask).toBeNull();
});

test("a task's devices page forward and backward by device id, with Relay pageInfo", async () => {
  const task = await relayTask();
  const query = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { upgradeTask(id: $id) {
    subTasks(first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { deviceId } } } } }`;
  const forward: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page: any = (await ok(query, { id: task.id, first: 3, after })).upgradeTask.subTasks;
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(page.pageInfo.startCursor).toBe(page.edges[0].cursor);
    forward.push(...page.edges.map((e: any) => e.node.deviceId));
    pages++;
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  expect(pages).toBe(3);
  expect(forward).toEqual(['dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5', 'dev-6']);

  const backward: string[] = [];
  let before: string | null = null;
  for (;;) {
    const page: any = (await ok(query, { id: task.id, last: 3, before })).upgradeTask.subTasks;
    backward.unshift(...page.edges.map((e: any) => e.node.deviceId));
    if (!page.pageInfo.hasPreviousPage) break;
    before = page.pageInfo.startCursor;
  }
  expect(backward).toEqual(forward);

  const { body } = await gateway.gql(query, { id: task.id, first: 2, last: 2 });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

test("a device's history: last n events, then older ones with before", async () => {
  const task = await relayTask();
  const query = `query($id: ID!, $before: String) { upgradeTask(id: $id) { subTasks(first: 1) { nodes {
    events(last: 2, before: $before) { totalCount pageInfo { hasPreviousPage hasNextPage startCursor } nodes { percent } } } } } }`;
  const latest = (await ok(query, { id: task.id })).upgradeTask.subTasks.nodes[0].events;
  expect(latest.totalCount).toBe(3);
  expect(latest.nodes.map((e: any) => e.percent)).toEqual([50, 100]);
  expect(latest.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  const older = (await ok(query, { id: task.id, before: latest.pageInfo.startCursor })).upgradeTask.subTasks.nodes[0].events;
  expect(older.nodes.map((e: any) => e.percent)).toEqual([10]);
  expect(older.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
});

test('top-level lists page backward too: last/before gives the forward pages in reverse', async () => {
  const query = `query($first: Int, $after: String, $last: Int, $before: String) {
    upgradeTasks(first: $first, after: $after, last: $last, before: $before) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { externalId } } }`;
  const all = (await ok(query, { first: 50 })).upgradeTasks.nodes.map((n: any) => n.externalId);
  expect(all).toHaveLength(6);
  const tail = (await ok(query, { last: 4 })).upgradeTasks;
  expect(tail.nodes.map((n: any) => n.externalId)).toEqual(all.slice(2));
  expect(tail.pageInfo.hasPreviousPage).toBe(true);
  const head = (await ok(query, { last: 4, before: tail.pageInfo.startCursor })).upgradeTasks;
  expect(head.nodes.map((n: any) => n.externalId)).toEqual(all.slice(0, 2));
  expect(head.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
});

test("the dashboard's own operations are within the API's limits", async () => {
  const task = await relayTask();
  expect((await gateway.gql(TASKS_QUERY, { first: 20 })).body.errors).toBeUndefined();
  expect((await gateway.gql(TASK_QUERY, { id: task.id })).body.errors).toBeUndefined();
});

test('deviceChanged(deviceId:) takes the device id too, and sends only that device', async () => {
  await gateway.recorder.record(huaweiEnvelope({ operationId: 'live-op', deviceId: 'live-dev', status: UpgradeStatus.PENDING }));
  const { id } = (await ok(`{ device(deviceId: "live-dev") { id } }`)).device;
  const client = gateway.ws();
  try {
    const query = `subscription($d: String) { deviceChanged(deviceId: $d) { id deviceId } }`;
    const byId = collect<any>(client, query, { d: id });
    const all = collect<any>(client, query);
    await subscriptionsRunning(gateway, 2);
    await gateway.recorder.record(huaweiEnvelope({ operationId: 'live-other', deviceId: 'live-other-dev', status: UpgradeStatus.PENDING }));
    await gateway.recorder.record(huaweiEnvelope({ operationId: 'live-op', deviceId: 'live-dev', status: UpgradeStatus.SUCCEEDED, percent: 100, currentVersion: 'V2' }));
    await eventually(() => all.received.some((m) => m.deviceChanged.deviceId === 'live-dev'), 10_000, 'the change of live-dev');
    await byId.until(1);
    expect(all.received.map((m) => m.deviceChanged.deviceId)).toContain('live-other-dev');
    expect(byId.received.map((m) => m.deviceChanged)).toEqual([{ id, deviceId: 'live-dev' }]);
  } finally {
    await client.dispose();
  }
});
