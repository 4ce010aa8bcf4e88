/**
 * The Huawei command side end to end: a real gateway (SQLite file, HTTP)
 * against the simulated platform over HTTPS with mutual TLS. The platform
 * pushes to the gateway's real callback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulatedHuaweiPlatform } from '../src/simulators/huawei-platform-server';
import { collect, startTestGateway, type TestGateway } from './support/gateway';
import { capturingLogger, eventually, expectNoSecrets, huaweiGatewayEnv, startPlatform, TEST_WEBHOOK_TOKEN } from './support/huawei-platform';
import { freePort } from './support/mosquitto';
import { flat } from './support/relay';

jest.setTimeout(60_000);

const CREATE = `mutation ($input: CreateHuaweiUpgradeInput!) {
  createHuaweiUpgrade(input: $input) { id source kind externalId appId status subTasks { nodes { deviceId status } } }
}`;
const TASK = `query ($id: ID!) {
  upgradeTask(id: $id) { id status progress subTasks { nodes { id deviceId status vendorStatus currentVersion } } }
}`;
const HISTORY = `query ($id: ID!) {
  upgradeTask(id: $id) { subTasks { nodes { deviceId events(first: 50) { nodes { status vendorStatus applied } } } } }
}`;
const RECONCILE = `mutation ($id: ID!) { reconcileHuaweiTask(id: $id) { id status subTasks { nodes { deviceId status } } } }`;

let dir: string;
let platform: SimulatedHuaweiPlatform;
let gateway: TestGateway | undefined;
let log: ReturnType<typeof capturingLogger>;

async function startGatewayFor(p: SimulatedHuaweiPlatform, env: Record<string, string> = {}): Promise<TestGateway> {
  const port = await freePort();
  return startTestGateway(
    {
      PORT: String(port),
      ...huaweiGatewayEnv(dir, p, port),
      HUAWEI_RECONCILE_INTERVAL_MS: '3600000',
      ...env,
    },
    { logger: log.logger, huawei: { clientOverrides: { backoffMs: 10 }, registrationBackoffMs: 20 } },
  );
}

type Task = { id: string; status: string; progress: number | null; subTasks: { id: string; deviceId: string; status: string; vendorStatus: string | null }[] };

async function task(g: TestGateway, id: string): Promise<Task> {
  const { body } = await g.gql<{ upgradeTask: Task }>(TASK, { id });
  return flat(body.data!.upgradeTask);
}

async function histories(g: TestGateway, id: string): Promise<Map<string, { status: string; vendorStatus: string | null; applied: boolean }[]>> {
  type Node = { deviceId: string; events: { status: string; vendorStatus: string | null; applied: boolean }[] };
  const { body } = await g.gql<{ upgradeTask: { subTasks: Node[] } }>(HISTORY, { id });
  expect(body.errors).toBeUndefined();
  return new Map(flat(body.data!.upgradeTask).subTasks.map((node) => [node.deviceId, node.events]));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-huawei-'));
  log = capturingLogger();
});

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
  // Nothing the gateway logged, at trace level, holds the secret, a token or the callback token.
  expectNoSecrets(log.lines, [platform.secret, ...platform.issuedTokens, TEST_WEBHOOK_TOKEN]);
});

test('registers the callback for the four upgrade notifications at start, retrying until it succeeds; /readyz reports it', async () => {
  platform = await startPlatform();
  platform.failNextCalls(3, 503);
  gateway = await startGatewayFor(platform, {});
  await eventually(() => gateway!.huawei!.registration!.registered, 15_000, 'callback registration');
  expect([...platform.subscriptions.keys()].sort()).toEqual(['fwUpgradeResultNotify', 'fwUpgradeStateChangeNotify', 'swUpgradeResultNotify', 'swUpgradeStateChangeNotify']);
  expect(new Set(platform.subscriptions.values())).toEqual(new Set([gateway.config.huawei!.callbackUrl]));
  const ready = await (await fetch(`${gateway.url}/readyz`)).json();
  expect(ready).toMatchObject({ status: 'ready', reports: { huaweiCallback: 'registered' } });
  expect(platform.stats.logins).toBe(1);
});

test('createHuaweiUpgrade starts the task on the platform; the pushes that follow land on it, live', async () => {
  platform = await startPlatform({ stepMs: 100, failDevices: ['dev-b'] });
  gateway = await startGatewayFor(platform);
  await eventually(() => gateway!.huawei!.registration!.registered, 15_000, 'callback registration');
  const progress = collect<{ upgradeProgress: { task: { id: string; status: string }; subTask: { deviceId: string; status: string } } }>(
    gateway.ws(),
    'subscription { upgradeProgress { task { id status } subTask { deviceId status } } }',
  );
  await eventually(async () => ((await gateway!.metrics.activeSubscriptions.get()).values[0]?.value ?? 0) >= 1, 10_000, 'subscription');

  const { body } = await gateway.gql<{ createHuaweiUpgrade: { id: string; externalId: string; status: string; subTasks: unknown[] } }>(CREATE, {
    input: { kind: 'FIRMWARE', fileId: 'fw-2.0.0', deviceIds: ['dev-a', 'dev-b', 'dev-c'], policy: { executeType: 'NOW', retryTimes: 2 } },
  });
  expect(body.errors).toBeUndefined();
  const created = flat(body.data!.createHuaweiUpgrade);
  expect(created).toMatchObject({ source: 'HUAWEI', kind: 'FIRMWARE', appId: platform.appId, status: 'PENDING' });
  expect(created.subTasks).toHaveLength(3);
  expect(platform.subOperationsOf(created.externalId).map((s) => s.deviceId).sort()).toEqual(['dev-a', 'dev-b', 'dev-c']);

  await eventually(async () => (await task(gateway!, created.id)).status === 'FAILED', 20_000, 'the task to end');
  const final = await task(gateway, created.id);
  expect(Object.fromEntries(final.subTasks.map((s) => [s.deviceId, s.status]))).toEqual({ 'dev-a': 'SUCCEEDED', 'dev-b': 'FAILED', 'dev-c': 'SUCCEEDED' });
  // Subscribers saw the creation and every push.
  await progress.until(3 * 5);
  expect(progress.received.filter((m) => m.upgradeProgress.task.id === created.id).length).toBe(3 * 5);
  const history = await histories(gateway, created.id);
  expect(history.get('dev-a')!.map((e) => e.vendorStatus ?? e.status)).toEqual([
    'PENDING',
    'downloading',
    'downloaded',
    'updating',
    'SUCCESS',
  ]);
});

test('pushes dropped are recovered by reconciliation, nothing recorded twice, and polling again adds nothing', async () => {
  let n = 0;
  // Every second push is lost, the results among them.
  platform = await startPlatform({ stepMs: 80, dropPushRatio: 0.5, random: () => (n++ % 2 === 0 ? 0.9 : 0.1) });
  gateway = await startGatewayFor(platform);
  await eventually(() => gateway!.huawei!.registration!.registered, 15_000, 'callback registration');
  const deviceIds = Array.from({ length: 8 }, (_, i) => `drop-${i}`);
  const { body } = await gateway.gql<{ createHuaweiUpgrade: { id: string; externalId: string } }>(CREATE, { input: { kind: 'SOFTWARE', fileId: 'sw-1', deviceIds } });
  const created = flat(body.data!.createHuaweiUpgrade);
  await eventually(() => platform.allDone, 20_000, 'the platform to finish');
  await platform.pushesSettled();
  expect(platform.stats.pushesDropped).toBeGreaterThan(0);
  const before = await task(gateway, created.id);
  expect(before.subTasks.some((s) => s.status !== 'SUCCEEDED')).toBe(true);

  const reconciled = await gateway.gql<{ reconcileHuaweiTask: { status: string } }>(RECONCILE, { id: created.id });
  expect(reconciled.body.errors).toBeUndefined();
  expect(reconciled.body.data!.reconcileHuaweiTask.status).toBe('SUCCEEDED');
  const after = await task(gateway, created.id);
  expect(after.subTasks.every((s) => s.status === 'SUCCEEDED')).toBe(true);

  const history = await histories(gateway, created.id);
  for (const [deviceId, events] of history) {
    // A clean history: the creation, what arrived, and at most one entry from the poll; every entry moved something.
    expect(events.every((e) => e.applied)).toBe(true);
    expect(events[0].status).toBe('PENDING');
    expect(events.at(-1)!.status).toBe('SUCCEEDED');
    expect(events.filter((e) => e.status === 'SUCCEEDED')).toHaveLength(1);
    expect(deviceId).toMatch(/^drop-/);
  }
  const count = [...history.values()].reduce((sum, events) => sum + events.length, 0);
  // Polling again finds what is known: nothing is added.
  await gateway.gql(RECONCILE, { id: created.id });
  await gateway.huawei!.reconciler.reconcileOpenTasks();
  const again = await histories(gateway, created.id);
  expect([...again.values()].reduce((sum, events) => sum + events.length, 0)).toBe(count);
});

test('the timer reconciles open tasks by itself: with every push lost the task still ends', async () => {
  platform = await startPlatform({ stepMs: 50, dropPushRatio: 1 });
  gateway = await startGatewayFor(platform, { HUAWEI_RECONCILE_INTERVAL_MS: '300' });
  await eventually(() => gateway!.huawei!.registration!.registered, 15_000, 'callback registration');
  const { body } = await gateway.gql<{ createHuaweiUpgrade: { id: string } }>(CREATE, { input: { kind: 'FIRMWARE', fileId: 'fw', deviceIds: ['t-1', 't-2'] } });
  const id = body.data!.createHuaweiUpgrade.id;
  await eventually(async () => (await task(gateway!, id)).status === 'SUCCEEDED', 20_000, 'reconciliation to end the task');
  expect(platform.stats.pushesSent).toBe(0);
});

test('a device the stale sweeper gave up is set right by reconciliation when the platform says it finished', async () => {
  platform = await startPlatform({ stepMs: 600, dropPushRatio: 1 });
  gateway = await startGatewayFor(platform, { HUAWEI_RECONCILE_INTERVAL_MS: '250', STALE_AFTER_MS: '200', HUAWEI_CALLBACK_URL: '' });
  const { body } = await gateway.gql<{ createHuaweiUpgrade: { id: string; externalId: string } }>(CREATE, { input: { kind: 'SOFTWARE', fileId: 'sw', deviceIds: ['s-1'] } });
  const created = flat(body.data!.createHuaweiUpgrade);
  await eventually(async () => (await task(gateway!, created.id)).status === 'TIMED_OUT', 10_000, 'the sweeper to time the device out');
  await eventually(async () => (await task(gateway!, created.id)).status === 'SUCCEEDED', 20_000, 'reconciliation to record the platform outcome');
  const events = (await histories(gateway, created.id)).get('s-1')!;
  // A poll may have seen the device processing before the sweeper gave it up.
  expect(events.map((e) => e.status).join(' ')).toMatch(/^PENDING (IN_PROGRESS )?TIMED_OUT SUCCEEDED$/);
  expect(events.every((e) => e.applied)).toBe(true);
  const [sub] = (await task(gateway, created.id)).subTasks;
  expect(sub).toMatchObject({ vendorStatus: 'success' });
  expect((await gateway.gql<{ upgradeTask: { subTasks: { nodes: { externalId: string }[] } } }>('query ($id: ID!) { upgradeTask(id: $id) { subTasks { nodes { externalId } } } }', { id: created.id })).body.data!.upgradeTask.subTasks.nodes[0].externalId).toBe(platform.subOperationsOf(created.externalId)[0].subOperationId);
});

test('a platform error is UPSTREAM_ERROR with the platform code and message, and nothing is stored', async () => {
  platform = await startPlatform({ fileIds: ['fw-known'] });
  gateway = await startGatewayFor(platform);
  const { body } = await gateway.gql(CREATE, { input: { kind: 'FIRMWARE', fileId: 'fw-unknown', deviceIds: ['x-1'] } });
  expect(body.errors?.[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', status: 404, platformCode: '123002', platformMessage: expect.stringContaining('fw-unknown') });
  const tasks = await gateway.gql<{ upgradeTasks: { totalCount: number } }>('{ upgradeTasks(first: 5) { totalCount } }');
  expect(tasks.body.data!.upgradeTasks.totalCount).toBe(0);

  platform.failNextCalls(10, 503);
  const down = await gateway.gql(CREATE, { input: { kind: 'FIRMWARE', fileId: 'fw-known', deviceIds: ['x-1'] } });
  expect(down.body.errors?.[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, platformCode: '50252' });
});

test('bad input is BAD_USER_INPUT naming each field, and the platform is not called', async () => {
  platform = await startPlatform();
  gateway = await startGatewayFor(platform, { HUAWEI_CALLBACK_URL: '' });
  const { body } = await gateway.gql(CREATE, {
    input: { kind: 'FIRMWARE', fileId: ' ', deviceIds: ['a', 'a'], policy: { executeType: 'CUSTOM', retryTimes: 9 } },
  });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  const fields = (body.errors![0].extensions!.fields as { field: string }[]).map((f) => f.field).sort();
  expect(fields).toEqual(['deviceIds', 'fileId', 'policy.retryTimes', 'policy.startTime']);
  const many = await gateway.gql(CREATE, { input: { kind: 'FIRMWARE', fileId: 'f', deviceIds: Array.from({ length: 1001 }, (_, i) => `d${i}`) } });
  expect(many.body.errors?.[0].extensions?.fields).toEqual([{ field: 'deviceIds', message: 'must name at most 1000 devices' }]);
  expect(platform.calls.filter((c) => c.path.includes('/operations/'))).toEqual([]);
});

test('a task the platform no longer knows is left as it is and logged once', async () => {
  platform = await startPlatform({ stepMs: 60_000 });
  gateway = await startGatewayFor(platform, { HUAWEI_CALLBACK_URL: '' });
  const { body } = await gateway.gql<{ createHuaweiUpgrade: { id: string; externalId: string } }>(CREATE, { input: { kind: 'FIRMWARE', fileId: 'f', deviceIds: ['gone-1'] } });
  const created = flat(body.data!.createHuaweiUpgrade);
  platform.forgetOperation(created.externalId);
  const first = await gateway.gql(RECONCILE, { id: created.id });
  expect(first.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  await gateway.huawei!.reconciler.reconcileOpenTasks();
  await gateway.huawei!.reconciler.reconcileOpenTasks();
  expect(log.lines.filter((l) => l.includes('no longer knows'))).toHaveLength(1);
  expect((await task(gateway, created.id)).status).toBe('PENDING');
});

test('without HUAWEI_* settings the mutations answer NOT_IMPLEMENTED with a clear message', async () => {
  platform = await startPlatform();
  gateway = await startTestGateway({}, { logger: log.logger });
  const { body } = await gateway.gql(CREATE, { input: { kind: 'FIRMWARE', fileId: 'f', deviceIds: ['d'] } });
  expect(body.errors?.[0].extensions?.code).toBe('NOT_IMPLEMENTED');
  expect(body.errors?.[0].message).toMatch(/HUAWEI_API_URL/);
  const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as Record<string, unknown>;
  expect(ready.reports).toBeUndefined();
});
