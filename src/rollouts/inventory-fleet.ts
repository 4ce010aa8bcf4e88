import { In, type EntityManager } from 'typeorm';
import { Device } from '../inventory/device.entity';
import { devicesMatching, type DeviceFilter } from '../inventory/filter';
import type { Fleet, FleetDevice } from './fleet';

const FIELDS = { source: true, deviceId: true, gatewaySn: true, model: true, firmwareVersion: true } as const;

/** How many ids one `IN (…)` carries. */
const ID_CHUNK = 500;

/** The rollout's view of the inventory's `device` table (src/inventory). */
export const inventoryFleet: Fleet = {
  async byDeviceIds(tx: EntityManager, deviceIds: readonly string[]): Promise<FleetDevice[]> {
    const out: FleetDevice[] = [];
    for (let i = 0; i < deviceIds.length; i += ID_CHUNK) {
      out.push(...(await tx.find(Device, { where: { deviceId: In(deviceIds.slice(i, i + ID_CHUNK)) }, select: FIELDS })));
    }
    return out;
  },

  async matching(tx: EntityManager, filter: Record<string, unknown>, limit: number): Promise<FleetDevice[]> {
    // The inventory's one filter-to-query entry point, as the devices list uses it.
    return devicesMatching(tx, filter as DeviceFilter)
      .select(['d.source', 'd.deviceId', 'd.gatewaySn', 'd.model', 'd.firmwareVersion'])
      .take(limit)
      .getMany();
  },
};
