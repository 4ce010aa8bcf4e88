import type { DataSource } from 'typeorm';
import { UpgradeSource } from '../domain/status';
import type { Page } from '../store/read-store';
import { Device } from './device.entity';
import { djiProductName } from './models';
import { type DeviceFilter, type DeviceKey, applyDeviceFilter, devicesMatching } from './filter';

/** How many devices run one firmware version of one model. */
export interface FirmwareVersionCount {
  readonly model: string | null;
  readonly modelName: string | null;
  readonly firmwareVersion: string | null;
  readonly count: number;
}

/**
 * Every read of the inventory the API makes: pages by keyset on the
 * (source, device_id) order, nested fields by batches of keys (DataLoaders),
 * counts by the database.
 */
export class DeviceReadStore {
  constructor(private readonly dataSource: DataSource) {}

  private query() {
    return this.dataSource.getRepository(Device).createQueryBuilder('d');
  }

  /** Devices matching `filter`, in (source, device id) order, after `after`. */
  async list(filter: DeviceFilter, first: number, after: DeviceKey | null): Promise<Page<Device>> {
    const totalCount = await applyDeviceFilter(this.query(), 'd', filter).getCount();
    const rows = await devicesMatching(this.dataSource, filter, after)
      .take(first + 1)
      .getMany();
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first, totalCount };
  }

  /**
   * The device with this id; with no source, the one of either (a DJI serial
   * number and a Huawei device id are unlikely to coincide; DJI first if so).
   */
  async device(deviceId: string, source: UpgradeSource | null): Promise<Device | null> {
    const qb = this.query().where('d.device_id = :deviceId', { deviceId });
    if (source) qb.andWhere('d.source = :source', { source });
    return qb.orderBy('d.source', 'ASC').getOne();
  }

  /** Devices by (source, device id), in one query per source. */
  async byKeys(keys: readonly DeviceKey[]): Promise<Device[]> {
    const bySource = new Map<string, string[]>();
    for (const key of keys) bySource.set(key.source, [...(bySource.get(key.source) ?? []), key.deviceId]);
    const found: Device[] = [];
    for (const [source, deviceIds] of bySource) {
      found.push(
        ...(await this.query().where('d.source = :source', { source }).andWhere('d.device_id IN (:...deviceIds)', { deviceIds }).getMany()),
      );
    }
    return found;
  }

  /** The sub-devices (aircraft) of several DJI docks, in one query through the gateway index. */
  subDevicesOf(dockSns: readonly string[]): Promise<Device[]> {
    return this.query()
      .where('d.gateway_sn IN (:...dockSns)', { dockSns })
      .andWhere('d.source = :source', { source: UpgradeSource.DJI })
      .andWhere('d.device_id <> d.gateway_sn')
      .orderBy('d.device_id', 'ASC')
      .getMany();
  }

  /**
   * Devices per (model, firmware version), optionally of one model or source.
   * One GROUP BY over the (model, firmware_version, source, device_id) index:
   * the database reads the index, not the table. The answer is bounded by the
   * number of distinct (model, version) pairs in the fleet (a few dozen: a
   * handful of models times the versions in circulation), not by the number
   * of devices, so it needs no paging.
   */
  async firmwareVersions(model: string | null, source: UpgradeSource | null): Promise<FirmwareVersionCount[]> {
    const qb = this.query()
      .select('d.model', 'model')
      .addSelect('d.firmware_version', 'firmwareVersion')
      .addSelect('COUNT(*)', 'count')
      .groupBy('d.model')
      .addGroupBy('d.firmware_version')
      .orderBy('d.model', 'ASC')
      .addOrderBy('d.firmware_version', 'ASC');
    if (model) qb.andWhere('d.model = :model', { model });
    if (source) qb.andWhere('d.source = :source', { source });
    const rows: { model: string | null; firmwareVersion: string | null; count: string | number }[] = await qb.getRawMany();
    return rows.map((r) => ({ model: r.model, modelName: djiProductName(r.model), firmwareVersion: r.firmwareVersion, count: Number(r.count) }));
  }
}
