import { silentOutput } from '../src/simulators/output';
import { startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { collect, eventually, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { rowIdOf } from './support/relay';
import { AIRCRAFT_MODEL, DOCK_MODEL, fleetWatcher, inventoryHas, packageInput, seedDevices } from './support/rollouts';

jest.setTimeout(300_000);

/*
 * Rollouts end to end: a real gateway (SQLite file, embedded broker), many
 * simulated docks in process, a watcher told by the docks themselves what is in
 * flight at every ota_create, and a graphql-ws client on rolloutChanged.
 */

let gw: TestGateway;
const docks: DockSimulator[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ ROLLOUT_TICK_MS: '100', ROLLOUT_RETRY_DELAY_MS: '200' });
});
afterAll(async () => {
  await Promise.all(docks.splice(0).map((d) => d.close()));
  await gw.stop();
});

interface RolloutView {
  id: string;
  status: string;
  pauseReason: string | null;
  progress: number;
  counts: { total: number; queued: number; inProgress: number; succeeded: number; failed: number; skipped: number; canceled: number };
}
const FIELDS = 'id status pauseReason progress counts { total queued inProgress succeeded failed skipped canceled }';

async function register(model: string, version: string): Promise<string> {
  const { body } = await gw.gql<{ registerFirmwarePackage: { id: string } }>(
    `mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`,
    { input: packageInput(model, version) },
  );
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!.registerFirmwarePackage.id;
}

async function create(input: Record<string, unknown>): Promise<RolloutView> {
  const { body } = await gw.gql<{ createRollout: RolloutView }>(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { ${FIELDS} } }`, { input });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!.createRollout;
}

async function command(name: string, id: string) {
  const { body } = await gw.gql<Record<string, RolloutView>>(`mutation ($id: ID!) { ${name}(id: $id) { ${FIELDS} } }`, { id });
  return { rollout: body.data?.[name], errors: body.errors };
}

async function rollout(id: string): Promise<RolloutView> {
  const { body } = await gw.gql<{ rollout: RolloutView }>(`query ($id: ID!) { rollout(id: $id) { ${FIELDS} } }`, { id });
  return body.data!.rollout;
}

/** The counts in the rollout row equal a recount of its targets. */
async function expectCountsMatchRecount(id: string): Promise<void> {
  const rows: { status: string; n: number }[] = await gw.dataSource.query(`SELECT status, COUNT(*) AS n FROM rollout_target WHERE rollout_id = ? GROUP BY status`, [rowIdOf(id)]);
  const recount = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  const { counts } = await rollout(id);
  expect(counts).toEqual({
    total: rows.reduce((a, r) => a + Number(r.n), 0),
    queued: recount.QUEUED ?? 0,
    inProgress: recount.IN_PROGRESS ?? 0,
    succeeded: recount.SUCCEEDED ?? 0,
    failed: recount.FAILED ?? 0,
    skipped: recount.SKIPPED ?? 0,
    canceled: recount.CANCELED ?? 0,
  });
}

async function startDocks(prefix: string, n: number, options: Partial<Parameters<typeof startDock>[0]> | ((i: number) => Partial<Parameters<typeof startDock>[0]>) = {}) {
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startDock({ gatewaySn: `${prefix}${String(i).padStart(3, '0')}`, mqttUrl: gw.mqttUrl, intervalMs: 15, output: silentOutput, ...(typeof options === 'function' ? options(i) : options) }),
    ),
  );
  docks.push(...started);
  return started;
}

test('a fleet of docks with aircraft: the cap holds at every moment and the pipe stays full, busy docks retried without spending attempts, SKIPPED where nothing is to do, rolloutChanged live', async () => {
  const N = 30;
  const CAP = 7;
  // Each dock announces itself and its aircraft (topology and state): the inventory the rollout picks from.
  // Two docks already run the target version, one aircraft is of a model with no package.
  const watcher = fleetWatcher(CAP);
  await startDocks('FLEETA', N, (i) => ({
    onUpgrade: watcher.onUpgrade,
    busyRate: 0.25,
    dockModel: DOCK_MODEL,
    firmwareVersion: i < 2 ? '10.02.0001' : '10.01.0000',
    aircraft: { sn: `FLEETA${String(i).padStart(3, '0')}-AC`, model: i === 5 ? '0-77-0' : AIRCRAFT_MODEL, firmwareVersion: '09.00.0000' },
  }));
  await inventoryHas(gw, 'FLEETA', 2 * N);
  const dockPkg = await register(DOCK_MODEL, '10.02.0001');
  const aircraftPkg = await register(AIRCRAFT_MODEL, '10.02.0001');

  const created = await create({
    name: 'fleet A',
    packageIds: [dockPkg, aircraftPkg],
    target: { filter: { deviceIdPrefix: 'FLEETA' } },
    maxInProgress: CAP,
    attemptsPerDevice: 1,
  });
  expect(created).toMatchObject({ status: 'SCHEDULED', counts: { total: 60, queued: 57, skipped: 3, inProgress: 0 } });

  const ws = gw.ws();
  const live = collect<{ rolloutChanged: RolloutView }>(ws, `subscription ($id: ID) { rolloutChanged(id: $id) { ${FIELDS} } }`, { id: created.id });
  await subscriptionsRunning(gw, 1);

  expect((await command('startRollout', created.id)).rollout?.status).toBe('RUNNING');
  await eventually(() => live.received.some((m) => m.rolloutChanged.status === 'COMPLETED'), 180_000, 'the rollout to complete');

  const final = await rollout(created.id);
  expect(final).toMatchObject({ status: 'COMPLETED', progress: 100, counts: { total: 60, succeeded: 57, skipped: 3, failed: 0, queued: 0, inProgress: 0 } });
  // At every moment the docks saw, no more than the cap in flight; and the engine kept it full.
  expect(watcher.state.violations).toEqual([]);
  expect(watcher.state.max).toBe(CAP);
  expect(Math.max(...live.received.map((m) => m.rolloutChanged.counts.inProgress))).toBeLessThanOrEqual(CAP);
  // Busy answers came, and cost no attempt: attemptsPerDevice is 1, yet every device succeeded.
  expect(watcher.state.busy).toBeGreaterThan(0);
  const targets = await gw.gql<{
    rollout: { targets: { edges: { node: { deviceId: string; status: string; attempts: number; lastError: string | null; subTask: { status: string } | null; device: { deviceId: string; firmwareVersion: string } } }[] } };
  }>(
    `query ($id: ID!) { rollout(id: $id) { targets(first: 200) { edges { node { deviceId status attempts lastError subTask { status } device { deviceId firmwareVersion } } } } } }`,
    { id: created.id },
  );
  const nodes = targets.body.data!.rollout.targets.edges.map((e) => e.node);
  for (const t of nodes.filter((t) => t.status === 'SUCCEEDED')) {
    expect(t.attempts).toBe(1);
    expect(t.subTask?.status).toBe('SUCCEEDED');
    // The inventory knows the new version.
    expect(t.device).toEqual({ deviceId: t.deviceId, firmwareVersion: '10.02.0001' });
  }
  expect(nodes.filter((t) => t.status === 'SKIPPED').map((t) => [t.deviceId, t.lastError])).toEqual([
    ['FLEETA000', 'already on version 10.02.0001'],
    ['FLEETA001', 'already on version 10.02.0001'],
    ['FLEETA005-AC', 'no package for model 0-77-0 in this rollout'],
  ]);
  // Nothing sent twice: one ota_create per device, plus one for each busy answer it got.
  expect(watcher.state.createsPerDevice.size).toBe(57);
  for (const [sn, n] of watcher.state.createsPerDevice) expect([sn, n]).toEqual([sn, 1 + (watcher.state.busyPerDevice.get(sn) ?? 0)]);
  // rolloutChanged was live, in order of counts, and ended with the final state.
  expect(live.received.at(-1)!.rolloutChanged).toEqual(final);
  await expectCountsMatchRecount(created.id);
  expect((await command('pauseRollout', created.id)).errors?.[0].extensions).toMatchObject({ code: 'ROLLOUT_STATE_CONFLICT', status: 'COMPLETED' });
});

test('the failure brake pauses with FAILURE_THRESHOLD and sends nothing new; resume goes on; cancel sends nothing more, lets the in-flight finish and cancels the rest', async () => {
  // Docks 0..5 fail every upgrade, 6..11 succeed; the queue is in dock order, so failures come first.
  const watcher = fleetWatcher(2);
  await startDocks('FLEETB', 12, (i) => ({ onUpgrade: watcher.onUpgrade, failRate: i < 6 ? 1 : 0, dockModel: '3-3-0', firmwareVersion: '1.0', aircraft: null }));
  await inventoryHas(gw, 'FLEETB', 12);
  const pkg = await register('3-3-0', '2.0');
  const created = await create({
    name: 'brake',
    packageIds: [pkg],
    target: { filter: { deviceIdPrefix: 'FLEETB' } },
    maxInProgress: 2,
    minFinishedBeforeThreshold: 3,
    maxFailurePercentage: 10,
    attemptsPerDevice: 1,
  });
  await command('startRollout', created.id);
  await eventually(async () => (await rollout(created.id)).status === 'PAUSED', 120_000, 'the brake');
  await eventually(async () => (await rollout(created.id)).counts.inProgress === 0, 120_000, 'the in-flight to finish');
  const paused = await rollout(created.id);
  expect(paused).toMatchObject({ status: 'PAUSED', pauseReason: 'FAILURE_THRESHOLD' });
  expect(paused.counts.failed).toBeGreaterThanOrEqual(3);
  expect(paused.counts.succeeded).toBe(0);
  const sentWhenPaused = watcher.state.sends;
  await new Promise((r) => setTimeout(r, 600)); // several engine ticks
  expect(watcher.state.sends).toBe(sentWhenPaused);
  expect((await command('resumeRollout', created.id)).rollout).toMatchObject({ status: 'RUNNING', pauseReason: null });
  await eventually(() => watcher.state.sends > sentWhenPaused, 60_000, 'a send after resume');

  // Still above the threshold: the next failure pauses it again.
  await eventually(async () => (await rollout(created.id)).status === 'PAUSED', 120_000, 'the brake again');
  const canceled = await command('cancelRollout', created.id);
  expect(canceled.rollout?.status).toBe('CANCELED');
  expect(canceled.rollout?.counts.queued).toBe(0);
  expect(canceled.rollout!.counts.canceled).toBeGreaterThan(0);
  await eventually(async () => (await rollout(created.id)).counts.inProgress === 0, 120_000, 'the in-flight to finish');
  const sentWhenCanceled = watcher.state.sends;
  await new Promise((r) => setTimeout(r, 400));
  expect(watcher.state.sends).toBe(sentWhenCanceled);
  const final = await rollout(created.id);
  expect(final.status).toBe('CANCELED');
  expect(final.counts.failed + final.counts.succeeded + final.counts.canceled).toBe(12);
  expect(watcher.state.violations).toEqual([]);
  await expectCountsMatchRecount(created.id);
  const { body } = await gw.gql<{ rollout: { finishedAt: string | null } }>(`query ($id: ID!) { rollout(id: $id) { finishedAt } }`, { id: created.id });
  expect(body.data!.rollout.finishedAt).not.toBeNull();
  expect((await command('retryRolloutFailures', created.id)).errors?.[0].extensions).toMatchObject({ code: 'ROLLOUT_STATE_CONFLICT', status: 'CANCELED' });
  expect((await command('resumeRollout', created.id)).errors?.[0].extensions?.code).toBe('ROLLOUT_STATE_CONFLICT');
});

test('failures spend attempts up to attemptsPerDevice; retryRolloutFailures queues them again and the rollout completes', async () => {
  const mode = { failing: true };
  const watcher = fleetWatcher(3);
  await startDocks('FLEETC', 4, { onUpgrade: watcher.onUpgrade, failRate: 0.5, random: () => (mode.failing ? 0 : 0.99), dockModel: '3-1-0', firmwareVersion: '1.0', aircraft: null });
  await inventoryHas(gw, 'FLEETC', 4);
  const pkg = await register('3-1-0', '2.0');
  const created = await create({ name: 'retry', packageIds: [pkg], target: { deviceIds: ['FLEETC000', 'FLEETC001', 'FLEETC002', 'FLEETC003'] }, maxInProgress: 3, attemptsPerDevice: 2, maxFailurePercentage: 100 });
  await command('startRollout', created.id);
  await eventually(async () => (await rollout(created.id)).status === 'COMPLETED', 120_000, 'all to fail');
  expect((await rollout(created.id)).counts).toMatchObject({ failed: 4, succeeded: 0 });
  // Two attempts each, no more.
  for (const [, n] of watcher.state.createsPerDevice) expect(n).toBe(2);
  const failedTargets = await gw.gql<{ rollout: { targets: { totalCount: number; edges: { node: { attempts: number; lastError: string } }[] } } }>(
    `query ($id: ID!) { rollout(id: $id) { targets(status: FAILED) { totalCount edges { node { attempts lastError } } } } }`,
    { id: created.id },
  );
  expect(failedTargets.body.data!.rollout.targets.totalCount).toBe(4);
  for (const { node } of failedTargets.body.data!.rollout.targets.edges) {
    expect(node.attempts).toBe(2);
    expect(node.lastError).toContain('312022');
  }

  mode.failing = false;
  const retried = await command('retryRolloutFailures', created.id);
  expect(retried.rollout).toMatchObject({ status: 'RUNNING', counts: { queued: 4, failed: 0 } });
  expect((await command('resumeRollout', created.id)).errors?.[0].extensions).toMatchObject({ code: 'ROLLOUT_STATE_CONFLICT', status: 'RUNNING' });
  await eventually(async () => (await rollout(created.id)).status === 'COMPLETED', 120_000, 'the retry to complete');
  expect((await rollout(created.id)).counts).toMatchObject({ succeeded: 4, failed: 0 });
  expect(watcher.state.violations).toEqual([]);
  await expectCountsMatchRecount(created.id);
});

test('startAt starts a rollout by itself; an attempt past attemptTimeoutSeconds is TIMED_OUT and spends its attempt', async () => {
  // A slow dock: its upgrade takes ~4 s, longer than the 1 s attempt time-out.
  await startDocks('FLEETD', 1, { intervalMs: 200, dockModel: '3-1-1', firmwareVersion: '1.0', aircraft: null });
  await inventoryHas(gw, 'FLEETD', 1);
  const pkg = await register('3-1-1', '2.0');
  const created = await create({ name: 'scheduled', packageIds: [pkg], target: { deviceIds: ['FLEETD000'] }, attemptTimeoutSeconds: 1, attemptsPerDevice: 1, startAt: new Date(Date.now() + 300).toISOString() });
  expect(created.status).toBe('SCHEDULED');
  await eventually(async () => (await rollout(created.id)).status === 'COMPLETED', 60_000, 'the scheduled rollout to end');
  const { body } = await gw.gql<{ rollout: { startedAt: string; targets: { edges: { node: { status: string; lastError: string; subTask: { status: string } } }[] } } }>(
    `query ($id: ID!) { rollout(id: $id) { startedAt targets { edges { node { status lastError subTask { status } } } } } }`,
    { id: created.id },
  );
  expect(body.data!.rollout.startedAt).not.toBeNull();
  expect(body.data!.rollout.targets.edges[0].node).toMatchObject({ status: 'FAILED', subTask: { status: 'TIMED_OUT' } });
  expect(body.data!.rollout.targets.edges[0].node.lastError).toMatch(/TIMED_OUT.*1 s attempt time-out/);
});

test.each([
  ['packageIds', (pkg: string) => ({ packageIds: [pkg, '00000000-0000-0000-0000-000000000000'], target: { deviceIds: ['FLEETE000'] } })],
  ['packageIds', () => ({ packageIds: [], target: { deviceIds: ['FLEETE000'] } })],
  ['target.deviceIds', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000', 'NOPE-1'] } })],
  ['target.deviceIds', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: [] } })],
  ['target', (pkg: string) => ({ packageIds: [pkg], target: {} })],
  ['target', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000'], filter: { model: '3-1-0' } } })],
  ['target.filter', (pkg: string) => ({ packageIds: [pkg], target: { filter: { deviceIdPrefix: 'NOBODY' } } })],
  ['maxInProgress', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000'] }, maxInProgress: 0 })],
  ['maxFailurePercentage', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000'] }, maxFailurePercentage: 100.5 })],
  ['attemptsPerDevice', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000'] }, attemptsPerDevice: 0 })],
  ['name', (pkg: string) => ({ packageIds: [pkg], target: { deviceIds: ['FLEETE000'] }, name: ' ' })],
])('bad input: %s is named in BAD_USER_INPUT and nothing is stored', async (field, input) => {
  await seedDevices(gw, [{ deviceId: `FLEETE000`, model: '3-9-0' }]).catch(() => undefined); // once
  const pkg =
    (await gw.gql<{ firmwarePackages: { edges: { node: { id: string } }[] } }>(`{ firmwarePackages(filter: { model: "3-9-0" }) { edges { node { id } } } }`)).body.data!
      .firmwarePackages.edges[0]?.node.id ?? (await register('3-9-0', '1.0'));
  const before = (await gw.gql<{ rollouts: { totalCount: number } }>(`{ rollouts { totalCount } }`)).body.data!.rollouts.totalCount;
  const { body } = await gw.gql(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`, { input: { name: 'bad', ...input(pkg) } });
  expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect((body.errors?.[0].extensions?.fields as { field: string }[]).map((f) => f.field)).toContain(field);
  expect((await gw.gql<{ rollouts: { totalCount: number } }>(`{ rollouts { totalCount } }`)).body.data!.rollouts.totalCount).toBe(before);
});
