import { Brackets, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import type { UpgradeSource } from '../domain/status';
import { Device } from './device.entity';

/**
 * Which devices: every field set narrows the set (AND). The one translation
 * of a filter into SQL, {@link applyDeviceFilter}, serves the devices list and
 * whatever else selects devices by filter (rollouts: filter → device ids).
 */
export interface DeviceFilter {
  readonly source?: UpgradeSource | null;
  readonly gatewaySn?: string | null;
  readonly model?: string | null;
  readonly firmwareVersion?: string | null;
  /** Devices not known to run this version (an unknown version counts as "not"). */
  readonly firmwareVersionNot?: string | null;
  readonly consistencyUpgradeNeeded?: boolean | null;
  readonly online?: boolean | null;
  readonly upgrading?: boolean | null;
  readonly deviceIdPrefix?: string | null;
}

/** A position in the devices list, ordered by (source, device_id): stable, as neither ever changes. */
export interface DeviceKey {
  readonly source: string;
  readonly deviceId: string;
}

/** `LIKE` pattern matching values that start with `prefix` (with `ESCAPE '\'`). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Adds the filter's conditions to a query over `device` aliased `alias`.
 * Equality on indexed columns only, plus a prefix `LIKE` on device_id (served
 * by the (source, device_id) index on PostgreSQL with C collation and on
 * SQLite only as a scan of that index: kept for completeness, not speed).
 */
export function applyDeviceFilter<T extends object>(qb: SelectQueryBuilder<T>, alias: string, filter: DeviceFilter): SelectQueryBuilder<T> {
  const a = alias;
  if (filter.source) qb.andWhere(`${a}.source = :f_source`, { f_source: filter.source });
  if (filter.gatewaySn) qb.andWhere(`${a}.gateway_sn = :f_gateway`, { f_gateway: filter.gatewaySn });
  if (filter.model) qb.andWhere(`${a}.model = :f_model`, { f_model: filter.model });
  if (filter.firmwareVersion) qb.andWhere(`${a}.firmware_version = :f_version`, { f_version: filter.firmwareVersion });
  if (filter.firmwareVersionNot) {
    qb.andWhere(
      new Brackets((w) =>
        w.where(`${a}.firmware_version <> :f_version_not`, { f_version_not: filter.firmwareVersionNot }).orWhere(`${a}.firmware_version IS NULL`),
      ),
    );
  }
  if (filter.consistencyUpgradeNeeded != null) {
    qb.andWhere(`${a}.consistency_upgrade_needed = :f_consistency`, { f_consistency: filter.consistencyUpgradeNeeded });
  }
  if (filter.online != null) qb.andWhere(`${a}.online = :f_online`, { f_online: filter.online });
  if (filter.upgrading != null) qb.andWhere(`${a}.upgrading = :f_upgrading`, { f_upgrading: filter.upgrading });
  if (filter.deviceIdPrefix) {
    qb.andWhere(`${a}.device_id LIKE :f_prefix ESCAPE '\\'`, { f_prefix: likePrefix(filter.deviceIdPrefix) });
  }
  return qb;
}

/**
 * The devices matching `filter`, in the list's stable order, after `after`:
 * a query to page through (`.take(n)`), count, or select ids from
 * (`.select('d.id')`), inside a transaction (`EntityManager`) or not.
 */
export function devicesMatching(db: DataSource | EntityManager, filter: DeviceFilter, after: DeviceKey | null = null): SelectQueryBuilder<Device> {
  return orderDevices(applyDeviceFilter(db.getRepository(Device).createQueryBuilder('d'), 'd', filter), 'd', after);
}

/** Orders a device query in the list's stable order, after `after` when given. */
export function orderDevices<T extends object>(qb: SelectQueryBuilder<T>, alias: string, after: DeviceKey | null): SelectQueryBuilder<T> {
  if (after) {
    qb.andWhere(
      new Brackets((w) =>
        w
          .where(`${alias}.source > :k_source`, { k_source: after.source })
          .orWhere(`${alias}.source = :k_source AND ${alias}.device_id > :k_device`, { k_device: after.deviceId }),
      ),
    );
  }
  return qb.orderBy(`${alias}.source`, 'ASC').addOrderBy(`${alias}.device_id`, 'ASC');
}

/** The key of a device in the list's order. */
export function deviceKey(device: Pick<Device, 'source' | 'deviceId'>): DeviceKey {
  return { source: device.source, deviceId: device.deviceId };
}
