import { In, type EntityManager } from 'typeorm';
import { Device } from '../inventory/device.entity';
import { applyDeviceFilter, type DeviceFilter } from '../inventory/filter';
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
    const qb = tx.getRepository(Device).createQueryBuilder('d').select(['d.source', 'd.deviceId', 'd.gatewaySn', 'd.model', 'd.firmwareVersion']);
    applyDeviceFilter(qb, 'd', filter as DeviceFilter);
    return qb.orderBy('d.source', 'ASC').addOrderBy('d.device_id', 'ASC').take(limit).getMany();
  },
};
