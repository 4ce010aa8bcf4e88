import { UpgradeSource } from '../../src/domain';
import type { DockUpgradeEvent } from '../../src/simulators/dji-dock';
import { Device } from '../../src/inventory/device.entity';
import type { Gateway } from '../../src/gateway';
import { eventually, type TestGateway } from './gateway';

/** DJI model keys used by the rollout tests: DJI Dock 2 and its Matrice 3D. */
export const DOCK_MODEL = '3-2-0';
export const AIRCRAFT_MODEL = '0-91-0';

/** A package input for `model` at `version`. */
export function packageInput(model: string, version: string) {
  return {
    model,
    version,
    fileUrl: `https://fw.example/${model}/${version}.zip`,
    md5: 'e4d909c290d0fb1ca068ffaddf22cbd0',
    fileSize: 123456,
    fileName: `${model}_${version}.zip`,
    firmwareUpgradeType: 'REGULAR',
  };
}

/** Resolves once the inventory knows `count` devices whose id starts with `prefix`, each with its firmware version (from the docks' topology and state). */
export async function inventoryHas(gateway: { gql: TestGateway['gql'] }, prefix: string, count: number, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const { body } = await gateway.gql<{ devices: { totalCount: number; edges: { node: { firmwareVersion: string | null } }[] } }>(
        `query ($p: String) { devices(first: 200, filter: { deviceIdPrefix: $p }) { totalCount edges { node { firmwareVersion } } } }`,
        { p: prefix },
      );
      const devices = body.data?.devices;
      return devices !== undefined && devices.totalCount === count && devices.edges.every((e) => e.node.firmwareVersion !== null);
    },
    timeoutMs,
    `${count} ${prefix}… devices in the inventory`,
  );
}

/** Puts devices into the inventory's table as its ingest would (the tests' fleet). */
export async function seedDevices(
  gateway: Gateway,
  devices: { deviceId: string; gatewaySn?: string | null; model: string | null; firmwareVersion?: string | null; source?: UpgradeSource }[],
): Promise<void> {
  const now = new Date();
  await gateway.writeQueue.submit(async (tx) => {
    for (const d of devices) {
      await tx.insert(Device, {
        id: crypto.randomUUID(),
        source: d.source ?? UpgradeSource.DJI,
        deviceId: d.deviceId,
        // A Huawei device hangs off no dock (the inventory keeps null).
        gatewaySn: d.source === UpgradeSource.HUAWEI ? null : (d.gatewaySn ?? d.deviceId),
        model: d.model,
        modelName: null,
        firmwareVersion: d.firmwareVersion ?? null,
        softwareVersion: null,
        consistencyUpgradeNeeded: false,
        upgrading: false,
        online: true,
        lastSeenAt: now,
        createdAt: now,
        updatedAt: now,
      } as never);
    }
    return { result: undefined };
  });
}

/**
 * Counts what is in flight as the docks see it (hand `watcher.onUpgrade` to
 * every simulated dock): every new `ota_create` a dock accepts puts its devices
 * in flight, its last report (ok, failed) takes them out; a refusal is over at
 * once. `max` is the most devices in flight at any moment; `violations` every
 * moment above `cap`, and every ota_create a dock got while it was upgrading.
 */
export function fleetWatcher(cap: number) {
  const inFlight = new Map<string, number>();
  const seen = new Set<string>();
  const upgradingDocks = new Set<string>();
  const state = {
    now: 0,
    max: 0,
    sends: 0,
    busy: 0,
    ended: 0,
    violations: [] as string[],
    createsPerDevice: new Map<string, number>(),
    busyPerDevice: new Map<string, number>(),
  };
  const onUpgrade = (event: DockUpgradeEvent): void => {
    if (event.kind === 'ota_create') {
      if (seen.has(event.bid)) return; // a resend of the same command
      seen.add(event.bid);
      state.sends++;
      if (upgradingDocks.has(event.gatewaySn)) state.violations.push(`ota_create to dock ${event.gatewaySn} while it upgrades`);
      for (const sn of event.devices) state.createsPerDevice.set(sn, (state.createsPerDevice.get(sn) ?? 0) + 1);
      if (event.result !== 0) {
        if (event.result === 312015 || event.result === 312014) {
          state.busy++;
          for (const sn of event.devices) state.busyPerDevice.set(sn, (state.busyPerDevice.get(sn) ?? 0) + 1);
        }
        // Counted in flight for the moment it took to refuse.
        if (state.now + event.devices.length > cap) state.violations.push(`${state.now + event.devices.length} in flight > ${cap}`);
        state.max = Math.max(state.max, state.now + event.devices.length);
        return;
      }
      upgradingDocks.add(event.gatewaySn);
      inFlight.set(event.bid, event.devices.length);
      state.now += event.devices.length;
      state.max = Math.max(state.max, state.now);
      if (state.now > cap) state.violations.push(`${state.now} in flight > ${cap}`);
      return;
    }
    const n = inFlight.get(event.bid);
    if (n === undefined) return;
    inFlight.delete(event.bid);
    upgradingDocks.delete(event.gatewaySn);
    state.now -= n;
    state.ended++;
  };
  return { state, onUpgrade };
}
