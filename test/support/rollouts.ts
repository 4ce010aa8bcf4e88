import mqtt, { type MqttClient } from 'mqtt';
import { UpgradeSource } from '../../src/domain';
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
export async function inventoryHas(gateway: { gql: TestGateway['gql'] }, prefix: string, count: number, timeoutMs = 20_000): Promise<void> {
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
  devices: { deviceId: string; gatewaySn?: string | null; model: string | null; firmwareVersion?: string | null }[],
): Promise<void> {
  const now = new Date();
  await gateway.writeQueue.submit(async (tx) => {
    for (const d of devices) {
      await tx.insert(Device, {
        id: crypto.randomUUID(),
        source: UpgradeSource.DJI,
        deviceId: d.deviceId,
        gatewaySn: d.gatewaySn ?? d.deviceId,
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
 * Watches the broker as the docks see it: every `ota_create` (the first send of
 * each bid) puts its devices in flight, and the dock's refusal or its last
 * `ota_progress` (ok, failed) takes them out. `max` is the most devices in
 * flight at any moment; `violations` every moment above `cap`.
 */
export async function watchFleet(url: string, cap: number) {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `fleet-watch-${Math.random().toString(36).slice(2)}`, clean: true });
  await client.subscribeAsync(['thing/product/+/services', 'thing/product/+/services_reply', 'thing/product/+/events'], { qos: 1 });
  const inFlight = new Map<string, number>();
  const seen = new Set<string>();
  const state = { now: 0, max: 0, sends: 0, busy: 0, ended: 0, violations: [] as string[], createsPerDevice: new Map<string, number>(), busyPerDevice: new Map<string, number>() };
  const bidDevices = new Map<string, string[]>();
  const dockBusy = new Set<string>();
  client.on('message', (topic, payload) => {
    const json = JSON.parse(payload.toString());
    const dock = topic.split('/')[2];
    if (topic.endsWith('/services') && json.method === 'ota_create') {
      if (seen.has(json.bid)) return;
      seen.add(json.bid);
      state.sends++;
      if (dockBusy.has(dock)) state.violations.push(`second ota_create to busy dock ${dock}`);
      dockBusy.add(dock);
      const devices: string[] = json.data.devices.map((d: { sn: string }) => d.sn);
      for (const sn of devices) state.createsPerDevice.set(sn, (state.createsPerDevice.get(sn) ?? 0) + 1);
      bidDevices.set(json.bid, devices);
      inFlight.set(json.bid, devices.length);
      state.now += devices.length;
      state.max = Math.max(state.max, state.now);
      if (state.now > cap) state.violations.push(`${state.now} in flight > ${cap}`);
      return;
    }
    const end = () => {
      const n = inFlight.get(json.bid);
      if (n === undefined) return;
      inFlight.delete(json.bid);
      dockBusy.delete(dock);
      state.now -= n;
      state.ended++;
    };
    if (topic.endsWith('/services_reply') && json.data?.result !== 0) {
      if ((json.data?.result === 312015 || json.data?.result === 312014) && inFlight.has(json.bid)) {
        state.busy++;
        for (const sn of bidDevices.get(json.bid) ?? []) state.busyPerDevice.set(sn, (state.busyPerDevice.get(sn) ?? 0) + 1);
      }
      end();
    }
    if (topic.endsWith('/events') && json.method === 'ota_progress' && ['ok', 'failed'].includes(json.data?.output?.status)) end();
  });
  return { state, close: () => client.endAsync(true) };
}
