/**
 * Rollouts over Huawei devices end to end: a real gateway (SQLite file, HTTP)
 * against the simulated Huawei platform over HTTPS with mutual TLS. Each wave
 * is one platform task; the platform's pushes end the devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpgradeSource } from '../src/domain';
import type { SimulatedHuaweiPlatform } from '../src/simulators/huawei-platform-server';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';
import { capturingLogger, expectNoSecrets, huaweiGatewayEnv, startPlatform, TEST_WEBHOOK_TOKEN } from './support/huawei-platform';
import { freePort } from './support/mosquitto';
import { seedDevices } from './support/rollouts';
import { rowIdOf } from './support/relay';

jest.setTimeout(120_000);

const CAP = 2;
/** The platform fails these devices' upgrades (--fail-devices). */
const FAILING = ['HW-BRAKE-0', 'HW-BRAKE-1', 'HW-BRAKE-2', 'HW-BRAKE-3'];
const KNOWN_FILE = 'fw-huawei-2.0.0';

let dir: string;
let platform: SimulatedHuaweiPlatform;
let gw: TestGateway;
let log: ReturnType<typeof capturingLogger>;
/** Every moment a task was created with more devices in flight on the platform than the cap. */
const capViolations: string[] = [];

/** Devices of `prefix` the platform has not finished, across its tasks. */
function platformInFlight(prefix: string): number {
  let n = 0;
  for (const op of platform.operationDevices) {
    for (const sub of platform.subOperationsOf(op.operationId)) if (sub.deviceId.startsWith(prefix) && sub.status !== 'success' && sub.status !== 'fail') n++;
  }
  return n;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-rollout-huawei-'));
  log = capturingLogger();
  platform = await startPlatform({
    stepMs: 60,
    failDevices: FAILING,
    fileIds: [KNOWN_FILE],
    onCall: (call) => {
      // Checked at every task the platform makes: never more devices of one rollout in flight than its cap.
      if (call.method === 'POST' && call.path.endsWith('Upgrade') && call.status === 200) {
        for (const prefix of ['HW-WAVE-', 'HW-BRAKE-', 'HW-LOST-', 'HW-BUSY-']) if (platformInFlight(prefix) > CAP) capViolations.push(`${prefix} ${platformInFlight(prefix)}`);
      }
    },
  });
  const port = await freePort();
  gw = await startTestGateway(
    {
      PORT: String(port),
      ...huaweiGatewayEnv(dir, platform, port),
      HUAWEI_RECONCILE_INTERVAL_MS: '3600000',
      ROLLOUT_TICK_MS: '100',
      ROLLOUT_RETRY_DELAY_MS: '200',
      ROLLOUT_HUAWEI_WAVE_GRACE_MS: '1500',
    },
    { logger: log.logger, huawei: { clientOverrides: { backoffMs: 10, timeoutMs: 1000 }, registrationBackoffMs: 20 } },
  );
  await eventually(() => gw.huawei!.registration!.registered, 15_000, 'callback registration');
});

afterAll(async () => {
  await gw?.stop();
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
  expectNoSecrets(log.lines, [platform.secret, ...platform.issuedTokens, TEST_WEBHOOK_TOKEN]);
});

interface RolloutView {
  id: string;
  status: string;
  pauseReason: string | null;
  counts: { total: number; queued: number; inProgress: number; succeeded: number; failed: number; skipped: number; canceled: number };
}
const FIELDS = 'id status pauseReason counts { total queued inProgress succeeded failed skipped canceled }';

async function register(input: Record<string, unknown>) {
  const { body } = await gw.gql<{ registerFirmwarePackage: { id: string; source: string; fileId: string | null; kind: string | null } }>(
    `mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id source fileId kind } }`,
    { input },
  );
  return body;
}

async function huaweiPackage(model: string, fileId = KNOWN_FILE): Promise<string> {
  const body = await register({ source: 'HUAWEI', model, version: '2.0.0', fileId, kind: 'FIRMWARE' });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!.registerFirmwarePackage.id;
}

async function createAndStart(input: Record<string, unknown>): Promise<RolloutView> {
  const { body } = await gw.gql<{ createRollout: RolloutView }>(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { ${FIELDS} } }`, { input });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  const started = await gw.gql<{ startRollout: RolloutView }>(`mutation ($id: ID!) { startRollout(id: $id) { ${FIELDS} } }`, { id: body.data!.createRollout.id });
  if (started.body.errors) throw new Error(JSON.stringify(started.body.errors));
  return started.body.data!.startRollout;
}

async function rollout(id: string): Promise<RolloutView> {
  const { body } = await gw.gql<{ rollout: RolloutView }>(`query ($id: ID!) { rollout(id: $id) { ${FIELDS} } }`, { id });
  return body.data!.rollout;
}

async function seedHuawei(prefix: string, n: number, model: string | null = null): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  await seedDevices(gw, ids.map((deviceId) => ({ deviceId, model, firmwareVersion: '1.0.0', source: UpgradeSource.HUAWEI })));
  return ids;
}

/** Each device of `prefix` in how many platform tasks, and the size of each task naming one. */
function sentOnPlatform(prefix: string): { perDevice: Map<string, number>; taskSizes: number[] } {
  const perDevice = new Map<string, number>();
  const taskSizes: number[] = [];
  for (const op of platform.operationDevices) {
    const mine = op.deviceIds.filter((d) => d.startsWith(prefix));
    if (mine.length === 0) continue;
    taskSizes.push(op.deviceIds.length);
    for (const d of mine) perDevice.set(d, (perDevice.get(d) ?? 0) + 1);
  }
  return { perDevice, taskSizes };
}

async function targetRows(rolloutId: string): Promise<{ device_id: string; status: string; attempts: number; last_error: string | null; task_id: string | null; sub_task_id: string | null; wave_id: string | null }[]> {
  return gw.dataSource.query(`SELECT device_id, status, attempts, last_error, task_id, sub_task_id, wave_id FROM rollout_target WHERE rollout_id = ? ORDER BY device_id`, [rowIdOf(rolloutId)]);
}

test('registerFirmwarePackage takes a Huawei package by fileId and kind; a Huawei one with DJI fields or without fileId is BAD_USER_INPUT naming the field', async () => {
  const noFile = await register({ source: 'HUAWEI', model: 'HW-NB-1', version: '2.0.0', kind: 'FIRMWARE' });
  expect(noFile.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'fileId' }] });
  const djiFields = await register({ source: 'HUAWEI', model: 'HW-NB-1', version: '2.0.0', fileId: 'f', kind: 'FIRMWARE', fileUrl: 'https://x.example/a.bin' });
  expect(djiFields.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'fileUrl' }] });
  const noKind = await register({ source: 'HUAWEI', model: 'HW-NB-1', version: '2.0.0', fileId: 'f' });
  expect(noKind.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'kind' }] });
  const djiWithFileId = await register({ model: '3-2-0', version: '9.9.9', fileId: 'f', fileUrl: 'https://x.example/a.bin', md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', fileSize: 1, fileName: 'a.bin', firmwareUpgradeType: 'REGULAR' });
  expect(djiWithFileId.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'fileId' }] });

  const ok = await register({ source: 'HUAWEI', model: 'HW-NB-1', version: '2.0.0', fileId: KNOWN_FILE, kind: 'SOFTWARE' });
  expect(ok.errors).toBeUndefined();
  expect(ok.data!.registerFirmwarePackage).toMatchObject({ source: 'HUAWEI', fileId: KNOWN_FILE, kind: 'SOFTWARE' });
  const again = await register({ source: 'HUAWEI', model: 'HW-NB-1', version: '2.0.0', fileId: 'other', kind: 'FIRMWARE' });
  expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'version' }] });
});

test('a rollout over 5 Huawei devices with cap 2 sends waves of at most 2 (one platform task each), never a device twice, and every device ends SUCCEEDED', async () => {
  const pkg = await huaweiPackage('HW-WAVE');
  const devices = await seedHuawei('HW-WAVE-', 5);
  const started = await createAndStart({ name: 'huawei waves', packageIds: [pkg], target: { deviceIds: devices }, maxInProgress: CAP });
  await eventually(async () => (await rollout(started.id)).status === 'COMPLETED', 60_000, 'the rollout to complete');
  const done = await rollout(started.id);
  expect(done.counts).toMatchObject({ total: 5, succeeded: 5, failed: 0, inProgress: 0, queued: 0 });

  const { perDevice, taskSizes } = sentOnPlatform('HW-WAVE-');
  expect([...perDevice.keys()].sort()).toEqual(devices);
  expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
  expect(taskSizes.every((n) => n <= CAP)).toBe(true);
  expect(taskSizes.length).toBeGreaterThanOrEqual(3);
  expect(capViolations).toEqual([]);

  // Each target is linked to the sub-task of the stored task whose externalId is the platform's operationId.
  const rows = await targetRows(started.id);
  expect(rows.every((r) => r.status === 'SUCCEEDED' && r.attempts === 1 && r.wave_id === null && r.sub_task_id !== null)).toBe(true);
  const tasks: { id: string; external_id: string; source: string }[] = await gw.dataSource.query(
    `SELECT id, external_id, source FROM upgrade_task WHERE id IN (${rows.map(() => '?').join(',')})`,
    rows.map((r) => r.task_id),
  );
  expect(tasks.every((t) => t.source === 'HUAWEI')).toBe(true);
  expect(new Set(tasks.map((t) => t.external_id))).toEqual(new Set(platform.operationDevices.filter((o) => o.deviceIds.some((d) => d.startsWith('HW-WAVE-'))).map((o) => o.operationId)));
});

test('the failure brake: devices the platform fails pause the rollout with FAILURE_THRESHOLD; nothing is sent twice', async () => {
  const pkg = await huaweiPackage('HW-BRAKE');
  const devices = await seedHuawei('HW-BRAKE-', 8, 'HW-BRAKE');
  const started = await createAndStart({
    name: 'huawei brake',
    packageIds: [pkg],
    target: { deviceIds: devices },
    maxInProgress: CAP,
    attemptsPerDevice: 1,
    minFinishedBeforeThreshold: 2,
    maxFailurePercentage: 10,
  });
  await eventually(async () => {
    const r = await rollout(started.id);
    return r.status === 'PAUSED' && r.counts.inProgress === 0;
  }, 60_000, 'the brake');
  const paused = await rollout(started.id);
  expect(paused.pauseReason).toBe('FAILURE_THRESHOLD');
  expect(paused.counts.failed).toBeGreaterThan(0);
  expect(paused.counts.queued).toBeGreaterThan(0);
  const { perDevice } = sentOnPlatform('HW-BRAKE-');
  expect([...perDevice.values()].every((n) => n === 1)).toBe(true);
  const failed = (await targetRows(started.id)).filter((r) => r.status === 'FAILED');
  expect(failed.every((r) => FAILING.includes(r.device_id) && r.last_error !== null)).toBe(true);
  expect(capViolations).toEqual([]);
});

test('a wave whose answer is lost is found on the platform after the grace and stored once; no device is sent twice', async () => {
  const pkg = await huaweiPackage('HW-LOST');
  const devices = await seedHuawei('HW-LOST-', 2, 'HW-LOST');
  platform.loseCreateAnswers(1);
  const started = await createAndStart({ name: 'huawei lost answer', packageIds: [pkg], target: { deviceIds: devices }, maxInProgress: CAP });
  await eventually(async () => (await rollout(started.id)).status === 'COMPLETED', 60_000, 'the rollout to complete');
  expect((await rollout(started.id)).counts).toMatchObject({ succeeded: 2, failed: 0 });
  const { perDevice, taskSizes } = sentOnPlatform('HW-LOST-');
  expect(taskSizes).toEqual([2]);
  expect([...perDevice.values()]).toEqual([1, 1]);
  const rows = await targetRows(started.id);
  expect(rows.every((r) => r.attempts === 1 && r.sub_task_id !== null)).toBe(true);
});

test('a platform that answers 503 past the retries sends the wave back to the queue without spending an attempt; a 4xx refusal spends it with the platform code', async () => {
  const pkg = await huaweiPackage('HW-BUSY');
  const devices = await seedHuawei('HW-BUSY-', 2, 'HW-BUSY');
  // More 503s than the client's attempts: the first wave is not made.
  platform.failNextCalls(5, 503);
  const started = await createAndStart({ name: 'huawei 503', packageIds: [pkg], target: { deviceIds: devices }, maxInProgress: CAP });
  await eventually(async () => (await rollout(started.id)).status === 'COMPLETED', 60_000, 'the rollout to complete');
  expect((await rollout(started.id)).counts).toMatchObject({ succeeded: 2 });
  expect((await targetRows(started.id)).every((r) => r.attempts === 1)).toBe(true);
  expect([...sentOnPlatform('HW-BUSY-').perDevice.values()]).toEqual([1, 1]);

  const unknownFile = await huaweiPackage('HW-REJECT', 'fw-not-on-platform');
  const rejected = await seedHuawei('HW-REJECT-', 2, 'HW-REJECT');
  const second = await createAndStart({ name: 'huawei 404', packageIds: [unknownFile], target: { deviceIds: rejected }, maxInProgress: CAP, attemptsPerDevice: 2, minFinishedBeforeThreshold: 100 });
  await eventually(async () => (await rollout(second.id)).status === 'COMPLETED', 60_000, 'the refused rollout to end');
  const rows = await targetRows(second.id);
  expect(rows.map((r) => [r.status, r.attempts])).toEqual([
    ['FAILED', 2],
    ['FAILED', 2],
  ]);
  expect(rows.every((r) => r.last_error!.includes('123002'))).toBe(true);
  expect(sentOnPlatform('HW-REJECT-').perDevice.size).toBe(0);
});

test('without the Huawei settings, a rollout naming a Huawei package is refused with a clear error, nothing stored', async () => {
  const plain = await startTestGateway({});
  try {
    await seedDevices(plain, [{ deviceId: 'HW-OFF-0', model: null, source: UpgradeSource.HUAWEI }]);
    const reg = await plain.gql<{ registerFirmwarePackage: { id: string } }>(`mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`, {
      input: { source: 'HUAWEI', model: 'HW-OFF', version: '2.0.0', fileId: 'f', kind: 'FIRMWARE' },
    });
    const { body } = await plain.gql(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`, {
      input: { name: 'off', packageIds: [reg.body.data!.registerFirmwarePackage.id], target: { deviceIds: ['HW-OFF-0'] } },
    });
    expect(body.errors?.[0].extensions?.code).toBe('NOT_IMPLEMENTED');
    expect(body.errors?.[0].message).toMatch(/HUAWEI_API_URL/);
    expect(await plain.dataSource.query(`SELECT id FROM rollout`)).toEqual([]);
  } finally {
    await plain.stop();
  }
});
