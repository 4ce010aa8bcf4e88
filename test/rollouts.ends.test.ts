import { startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { silentOutput } from '../src/simulators/output';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';
import { DOCK_MODEL, fleetWatcher, inventoryHas, packageInput } from './support/rollouts';

jest.setTimeout(180_000);

/*
 * The engine refills a freed slot from the end the recorder commits, not from
 * its timer: with the timer's full look ten minutes apart, a rollout of
 * one-at-a-time upgrades still runs to the end, each dock's end starting the
 * next dock's ota_create.
 */

let gw: TestGateway;
const docks: DockSimulator[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ ROLLOUT_TICK_MS: '600000', ROLLOUT_RETRY_DELAY_MS: '200' });
});
afterAll(async () => {
  await Promise.all(docks.splice(0).map((d) => d.close()));
  await gw.stop();
});

test('each end the recorder commits counts its target and sends the next one, without waiting for the timer', async () => {
  const N = 5;
  const watcher = fleetWatcher(1);
  docks.push(
    ...(await Promise.all(
      Array.from({ length: N }, (_, i) =>
        startDock({ gatewaySn: `ENDS${i}`, mqttUrl: gw.mqttUrl, intervalMs: 15, output: silentOutput, onUpgrade: watcher.onUpgrade, dockModel: DOCK_MODEL, firmwareVersion: '1.0', aircraft: null }),
      ),
    )),
  );
  await inventoryHas(gw, 'ENDS', N);
  const pkg = await gw.gql<{ registerFirmwarePackage: { id: string } }>(`mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`, {
    input: packageInput(DOCK_MODEL, '2.0'),
  });
  const created = await gw.gql<{ createRollout: { id: string } }>(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`, {
    input: { name: 'ends', packageIds: [pkg.body.data!.registerFirmwarePackage.id], target: { filter: { deviceIdPrefix: 'ENDS' } }, maxInProgress: 1 },
  });
  const id = created.body.data!.createRollout.id;
  // startRollout wakes the engine once (a full look: the first dock); every later send follows an end.
  await gw.gql(`mutation ($id: ID!) { startRollout(id: $id) { id } }`, { id });
  const status = async () => (await gw.gql<{ rollout: { status: string; counts: { succeeded: number } } }>(`query ($id: ID!) { rollout(id: $id) { status counts { succeeded } } }`, { id })).body.data!.rollout;
  // Far less than the ten minutes between the timer's looks.
  await eventually(async () => (await status()).status === 'COMPLETED', 120_000, 'the rollout to complete from its ends alone');
  expect((await status()).counts.succeeded).toBe(N);
  expect(watcher.state.violations).toEqual([]);
});
