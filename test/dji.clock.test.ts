/**
 * Docks reboot during firmware upgrades and can come back with a clock at
 * 1970, a year ahead, or behind until they sync. End to end over the embedded
 * broker: a simulated dock whose clock jumps in the middle of an upgrade still
 * ends it SUCCEEDED, every report is in the history, and the task's progress
 * seen by a subscriber never goes back (DJI restarts its percent at 0 when it
 * moves from downloading to installing; the phase stays visible as `step`).
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { ProgressEvent, UpgradeTask } from '../src/store/entities';
import { startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { collectingOutput } from '../src/simulators/output';
import { firmwareDevice } from './fixtures/dji/firmware-device';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { id externalId status }
  }
`;

const TASK = /* GraphQL */ `
  query Task($id: ID!) {
    upgradeTask(id: $id) {
      id status progress statusCounts { status count }
      subTasks { deviceId status percent step progress events { status percent step applied occurredAt } }
    }
  }
`;

const PROGRESS = /* GraphQL */ `
  subscription Progress($gatewaySn: String) {
    upgradeProgress(gatewaySn: $gatewaySn) {
      task { id status progress }
      subTask { deviceId step percent progress }
    }
  }
`;

const YEAR = 365 * 86_400_000;

/**
 * Dock clocks, by how many messages the dock stamped before (24 in all: the
 * services_reply and 23 reports), with what the history must show of them.
 */
const CLOCKS: readonly (readonly [name: string, clock: (stamped: number) => number, shows: (times: number[]) => boolean])[] = [
  ['jumps back to 1970 after a reboot', (n) => (n < 8 ? Date.now() : 1000 + n), (times) => times[23] === 1023],
  ['jumps a year ahead', (n) => (n < 8 ? Date.now() : Date.now() + YEAR), (times) => times[23] > Date.now() + YEAR / 2],
  ['runs backwards', (n) => Date.now() - n * 60_000, (times) => times[23] < times[0] - 20 * 60_000],
  ['jumps to 1970 and back for the last report', (n) => (n >= 12 && n < 23 ? n : Date.now()), (times) => times[12] === 12 && times[23] > times[0]],
];

let gateway: TestGateway;
const docks: DockSimulator[] = [];

beforeAll(async () => {
  gateway = await startTestGateway({ DJI_REPLY_TIMEOUT_MS: '30000' });
});
afterEach(async () => {
  await Promise.all(docks.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  await gateway?.stop();
});

test.each(CLOCKS)('a dock whose clock %s ends its upgrade SUCCEEDED; every report is kept, progress never goes back', async (_name, clock, shows) => {
  const sn = `CLK${randomUUID().slice(0, 8).toUpperCase()}`;
  const aircraft = `AC${sn}`;
  const dock = await startDock({ gatewaySn: sn, mqttUrl: gateway.mqttUrl, output: collectingOutput(), speed: 30, once: true, clock });
  docks.push(dock);
  const progress = collect<{ upgradeProgress: any }>(gateway.ws(), PROGRESS, { gatewaySn: sn });
  await subscriptionsRunning(gateway, 1);

  const { body } = await gateway.gql<{ createFirmwareUpgrade: { id: string } }>(CREATE, {
    input: { gatewaySn: sn, devices: [firmwareDevice(aircraft), firmwareDevice(sn)] },
  });
  expect(body.errors).toBeUndefined();
  const id = body.data!.createFirmwareUpgrade.id;
  const summary = await dock.done;
  expect(summary.upgrades).toMatchObject([{ outcome: 'ok', eventsSent: 23, repliesMissing: 0 }]);

  const { body: read } = await gateway.gql<{ upgradeTask: any }>(TASK, { id });
  expect(read.errors).toBeUndefined();
  const task = read.data!.upgradeTask;
  expect(task).toMatchObject({ status: 'SUCCEEDED', progress: 100, statusCounts: [{ status: 'SUCCEEDED', count: 2 }] });
  for (const subTask of task.subTasks) {
    expect(subTask).toMatchObject({ status: 'SUCCEEDED', percent: 100, progress: 100, step: 'upgrade_firmware' });
    // The services_reply and the 23 reports, each applied, with the dock's time as it said.
    expect(subTask.events).toHaveLength(24);
    expect(subTask.events.every((e: any) => e.applied)).toBe(true);
  }
  // The dock's times are kept as it reported them, for display.
  const times: number[] = task.subTasks[0].events.map((e: any) => Date.parse(e.occurredAt));
  expect(shows(times)).toBe(true);

  // Every published state, in order: the task's progress never goes back, although the dock's percent
  // restarts at 0 for the install phase (shown as the step).
  const seen = (await progress.until(48)).map((p) => p.upgradeProgress);
  progress.unsubscribe();
  const taskProgress = seen.map((p) => p.task.progress ?? 0);
  expect(taskProgress).toEqual([...taskProgress].sort((a, b) => a - b));
  expect(seen.some((p) => p.subTask.step === 'upgrade_firmware' && p.subTask.percent === 0 && p.subTask.progress === 50)).toBe(true);
});

test('a message the dock marks as redelivered (DUP) is held against its clock: older than the last applied, it moves nothing; a terminal one still ends the upgrade', async () => {
  const sn = `DUP${randomUUID().slice(0, 8).toUpperCase()}`;
  const bid = randomUUID();
  const client = await mqtt.connectAsync(gateway.mqttUrl, { clientId: `dup-dock-${sn}`, username: sn, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  try {
    const t = Date.now();
    const publish = (timestamp: number, output: Record<string, unknown>, dup: boolean) =>
      client.publishAsync(
        `thing/product/${sn}/events`,
        JSON.stringify({ tid: randomUUID(), bid, timestamp, method: 'ota_progress', data: { result: 0, output } }),
        { qos: 1, dup },
      );
    await publish(t, { status: 'in_progress', progress: { percent: 60, step_key: 'download_firmware' } }, false);
    await publish(t + 2000, { status: 'paused', progress: { percent: 80, step_key: 'download_firmware' } }, false);
    await publish(t + 1000, { status: 'in_progress', progress: { percent: 70, step_key: 'download_firmware' } }, true);
    // A reboot to 1970, sent again: implausible, so it blocks nothing.
    await publish(5, { status: 'ok', progress: { percent: 100, step_key: 'upgrade_firmware' } }, true);

    const row = await gateway.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: bid });
    const events = await gateway.dataSource.getRepository(ProgressEvent).find({ where: { taskId: row.id }, order: { id: 'ASC' } });
    expect(events.map((e) => [e.reportedStatus, e.applied, e.ignoredReason])).toEqual([
      ['IN_PROGRESS', true, null],
      ['PAUSED', true, null],
      ['IN_PROGRESS', false, 'STALE'],
      ['SUCCEEDED', true, null],
    ]);
    expect(row).toMatchObject({ status: 'SUCCEEDED', progress: 100 });
  } finally {
    await client.endAsync();
  }
});
