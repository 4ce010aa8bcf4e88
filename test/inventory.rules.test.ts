import { UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';
import { djiModelKey, djiProductName } from '../src/inventory/models';
import type { TopologyObservation } from '../src/inventory/observations';
import {
  type DeviceFacts,
  type UpgradeOutcome,
  departed,
  dockAnnounced,
  joinedDock,
  leftDock,
  presenceChanged,
  sameDevice,
  stateReported,
  unknownDevice,
  upgradeObserved,
} from '../src/inventory/rules';

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s));
const DJI = UpgradeSource.DJI;
const topo = (dock: string, subs: [string, string][]): TopologyObservation => ({
  type: 'topology',
  source: DJI,
  gateway: { deviceId: dock, model: '3-2-0' },
  subDevices: subs.map(([deviceId, model]) => ({ deviceId, model })),
});
const outcome = (over: Partial<UpgradeOutcome>): UpgradeOutcome => ({
  source: DJI,
  kind: UpgradeKind.FIRMWARE,
  deviceId: 'AC1',
  gatewaySn: 'DOCK1',
  applied: true,
  status: UpgradeStatus.IN_PROGRESS,
  sourceVersion: null,
  currentVersion: null,
  targetVersion: null,
  ...over,
});

describe('DJI model keys', () => {
  it.each([
    [3, 1, 0, 'DJI Dock'],
    [3, 2, 0, 'DJI Dock 2'],
    [3, 3, 0, 'DJI Dock 3'],
    [0, 67, 0, 'Matrice 30'],
    [0, 67, 1, 'Matrice 30T'],
    [0, 91, 0, 'Matrice 3D'],
    [0, 91, 1, 'Matrice 3TD'],
    [0, 89, 0, 'Matrice 350 RTK'],
    [0, 60, 0, 'Matrice 300 RTK'],
    [0, 100, 1, 'DJI Matrice 4TD'],
  ])('%i-%i-%i is %s', (domain, type, subType, name) => {
    expect(djiProductName(djiModelKey(domain, type, subType))).toBe(name);
  });

  it('an unknown key has no name, and prototype keys are not names', () => {
    expect(djiProductName('9-9-9')).toBeNull();
    expect(djiProductName('constructor')).toBeNull();
    expect(djiProductName(null)).toBeNull();
  });
});

describe('topology', () => {
  it('a dock announcing itself is online, its own gateway, with its model and name', () => {
    const dock = dockAnnounced(null, topo('DOCK1', []), at(1));
    expect(dock).toMatchObject({ deviceId: 'DOCK1', gatewaySn: 'DOCK1', model: '3-2-0', modelName: 'DJI Dock 2', online: true, lastSeenAt: at(1) });
  });

  it('an aircraft joins a dock, and moves when another dock names it', () => {
    const first = joinedDock(null, DJI, { deviceId: 'AC1', model: '0-91-0' }, 'DOCK1', at(1));
    expect(first).toMatchObject({ gatewaySn: 'DOCK1', online: true, model: '0-91-0', modelName: 'Matrice 3D' });
    const moved = joinedDock({ ...first, firmwareVersion: '1.0' }, DJI, { deviceId: 'AC1', model: '0-91-0' }, 'DOCK2', at(2));
    expect(moved).toMatchObject({ gatewaySn: 'DOCK2', online: true, firmwareVersion: '1.0' });
  });

  it('an empty sub_devices takes the aircraft offline and keeps its dock', () => {
    const aircraft = joinedDock(null, DJI, { deviceId: 'AC1', model: '0-91-0' }, 'DOCK1', at(1));
    const dock = dockAnnounced(null, topo('DOCK1', []), at(1));
    const gone = departed([dock, aircraft], topo('DOCK1', []));
    expect(gone.map((d) => d.deviceId)).toEqual(['AC1']);
    expect(leftDock(aircraft)).toMatchObject({ online: false, gatewaySn: 'DOCK1' });
    // Already offline: nothing to write again.
    expect(departed([leftDock(aircraft)], topo('DOCK1', []))).toEqual([]);
    // Still named: not departed.
    expect(departed([aircraft], topo('DOCK1', [['AC1', '0-91-0']]))).toEqual([]);
  });
});

describe('state', () => {
  it('a state for a device never seen creates it, with what it reports', () => {
    const device = stateReported(null, { type: 'deviceState', source: DJI, deviceId: 'AC1', gatewaySn: 'DOCK1', firmwareVersion: '10.01.0001' }, at(1));
    expect(device).toMatchObject({ deviceId: 'AC1', gatewaySn: 'DOCK1', firmwareVersion: '10.01.0001', upgrading: false, consistencyUpgradeNeeded: null, online: null });
  });

  it('only the properties reported change', () => {
    const device = { ...unknownDevice(DJI, 'AC1', at(0)), firmwareVersion: '1', consistencyUpgradeNeeded: true };
    const next = stateReported(device, { type: 'deviceState', source: DJI, deviceId: 'AC1', gatewaySn: null, upgrading: true }, at(1));
    expect(next).toMatchObject({ firmwareVersion: '1', consistencyUpgradeNeeded: true, upgrading: true, lastSeenAt: at(1) });
  });

  it('a dock reporting for itself is online', () => {
    expect(stateReported(null, { type: 'deviceState', source: DJI, deviceId: 'DOCK1', gatewaySn: 'DOCK1' }, at(1)).online).toBe(true);
  });
});

describe('upgrades', () => {
  const device: DeviceFacts = { ...unknownDevice(DJI, 'AC1', at(0)), firmwareVersion: '1.0', consistencyUpgradeNeeded: true };

  it('a sub-task that ends SUCCEEDED sets the target version at once', () => {
    const next = upgradeObserved(device, outcome({ status: UpgradeStatus.SUCCEEDED, targetVersion: '2.0' }), at(1));
    expect(next).toMatchObject({ firmwareVersion: '2.0', upgrading: false, consistencyUpgradeNeeded: false });
  });

  it('a later state report wins over the target version the success set', () => {
    const succeeded = upgradeObserved(device, outcome({ status: UpgradeStatus.SUCCEEDED, targetVersion: '2.0' }), at(1));
    const reported = stateReported(succeeded, { type: 'deviceState', source: DJI, deviceId: 'AC1', gatewaySn: 'DOCK1', firmwareVersion: '2.0.1' }, at(2));
    expect(reported.firmwareVersion).toBe('2.0.1');
  });

  it('an upgrade under way marks the device upgrading; a failure clears it and leaves the version', () => {
    const running = upgradeObserved(device, outcome({ status: UpgradeStatus.IN_PROGRESS }), at(1));
    expect(running).toMatchObject({ upgrading: true, firmwareVersion: '1.0' });
    expect(upgradeObserved(running, outcome({ status: UpgradeStatus.FAILED }), at(2))).toMatchObject({ upgrading: false, firmwareVersion: '1.0' });
  });

  it('an observation that did not apply changes only lastSeenAt', () => {
    const next = upgradeObserved(device, outcome({ applied: false, status: UpgradeStatus.SUCCEEDED, targetVersion: '9' }), at(3));
    expect(next).toEqual({ ...device, lastSeenAt: at(3), gatewaySn: 'DOCK1' });
  });

  it('Huawei: a device appears with its first push; firmware and software versions are kept apart', () => {
    const huawei = { source: UpgradeSource.HUAWEI, deviceId: 'hw-1', gatewaySn: null };
    const first = upgradeObserved(null, outcome({ ...huawei, status: UpgradeStatus.IN_PROGRESS, sourceVersion: 'V1' }), at(1));
    expect(first).toMatchObject({ source: UpgradeSource.HUAWEI, deviceId: 'hw-1', firmwareVersion: 'V1', softwareVersion: null, gatewaySn: null, online: null });
    const fw = upgradeObserved(first, outcome({ ...huawei, status: UpgradeStatus.SUCCEEDED, currentVersion: 'V2', targetVersion: 'V2' }), at(2));
    expect(fw).toMatchObject({ firmwareVersion: 'V2', softwareVersion: null });
    const sw = upgradeObserved(fw, outcome({ ...huawei, kind: UpgradeKind.SOFTWARE, status: UpgradeStatus.SUCCEEDED, currentVersion: 'S5' }), at(3));
    expect(sw).toMatchObject({ firmwareVersion: 'V2', softwareVersion: 'S5' });
    const failed = upgradeObserved(sw, outcome({ ...huawei, kind: UpgradeKind.SOFTWARE, status: UpgradeStatus.FAILED, sourceVersion: 'S5' }), at(4));
    expect(failed).toMatchObject({ softwareVersion: 'S5', upgrading: false });
  });
});

describe('presence', () => {
  it('a dock that goes offline takes its aircraft with it; coming back brings only the dock', () => {
    const dock = dockAnnounced(null, topo('DOCK1', []), at(1));
    const aircraft = joinedDock(null, DJI, { deviceId: 'AC1', model: '0-91-0' }, 'DOCK1', at(1));
    const down = presenceChanged(dock, [dock, aircraft], false, at(2));
    expect(down.map((d) => [d.deviceId, d.online])).toEqual([
      ['DOCK1', false],
      ['AC1', false],
    ]);
    expect(down[0].lastSeenAt).toEqual(at(1));
    const up = presenceChanged(down[0], [down[1]], true, at(3));
    expect(up.map((d) => [d.deviceId, d.online])).toEqual([['DOCK1', true]]);
  });

  it('sameDevice compares every field, dates by time', () => {
    const a = unknownDevice(DJI, 'X', at(1));
    expect(sameDevice(a, { ...a, lastSeenAt: new Date(at(1).getTime()) })).toBe(true);
    expect(sameDevice(a, { ...a, online: true })).toBe(false);
  });
});
