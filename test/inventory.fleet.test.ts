/** The fleet simulator against a real gateway: the dashboard's "one command" fleet. */
import { collectingOutput } from '../src/simulators/output';
import { fleetDock, parseFleetArgs, startFleet, type Fleet } from '../src/simulators/fleet';
import { UsageError } from '../src/simulators/cli';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';

const DEVICES = `query($filter: DeviceFilter) { devices(first: 200, filter: $filter) { totalCount edges { node { deviceId model online firmwareVersion consistencyUpgradeNeeded gatewaySn } } } }`;

test('flags: --docks is required and bounded, shares are 0 to 1', () => {
  expect(parseFleetArgs(['--docks', '5', '--consistency', '0.5', '--offline', '0.2', '--flap', '10', '--prefix', 'P'])).toEqual({
    help: false,
    options: { docks: 5, mqttUrl: 'mqtt://127.0.0.1:1883', consistencyShare: 0.5, offlineShare: 0.2, flapSeconds: 10, prefix: 'P', speed: 1, verbose: false },
  });
  expect(() => parseFleetArgs([])).toThrow(UsageError);
  expect(() => parseFleetArgs(['--docks', '0'])).toThrow(/--docks must be from 1/);
  expect(() => parseFleetArgs(['--docks', '2', '--offline', '1.5'])).toThrow(/--offline must be a share/);
  expect(() => parseFleetArgs(['--docks', '2', '--prefix', 'a/b'])).toThrow(/--prefix/);
});

test('the plan mixes models and spreads the shares evenly', () => {
  const plans = Array.from({ length: 10 }, (_, i) => fleetDock(i, { prefix: 'P', docks: 10, consistencyShare: 0.2, offlineShare: 0.3 }));
  expect(new Set(plans.map((p) => p.dockModel))).toEqual(new Set(['3-1-0', '3-2-0', '3-3-0']));
  expect(plans.filter((p) => p.consistencyUpgradeNeeded)).toHaveLength(2);
  expect(plans.filter((p) => p.offline)).toHaveLength(3);
});

describe('against a gateway', () => {
  let gateway: TestGateway;
  let fleet: Fleet | undefined;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await fleet?.close();
    await gateway?.stop();
  });

  test('N docks with aircraft appear, with models, versions, the consistency share and the offline share', async () => {
    const output = collectingOutput();
    fleet = await startFleet(
      { docks: 6, mqttUrl: gateway.mqttUrl, consistencyShare: 0.5, offlineShare: 1 / 3, flapSeconds: null, prefix: 'FLT', speed: 1, verbose: false },
      output,
    );
    const query = async (filter: Record<string, unknown>) => (await gateway.gql<{ devices: any }>(DEVICES, { filter })).body.data!.devices;
    await eventually(async () => (await query({ deviceIdPrefix: 'FLT', online: false })).totalCount === 4, 15_000, 'two docks and their aircraft offline');
    const all = await query({ deviceIdPrefix: 'FLT' });
    expect(all.totalCount).toBe(12);
    expect(all.edges.every((e: any) => e.node.model && e.node.firmwareVersion)).toBe(true);
    expect((await query({ deviceIdPrefix: 'FLT', consistencyUpgradeNeeded: true })).totalCount).toBe(6);
    expect((await query({ deviceIdPrefix: 'FLT', online: true })).totalCount).toBe(8);
    expect(output.warnings).toEqual([]);
  });
});
