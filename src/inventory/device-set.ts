import type { EntityManager } from 'typeorm';
import type { UpgradeSource } from '../domain/status';
import { batchMemo, writeDeferred, type DeferredStatements, type DeferredWrites } from '../recorder/write-queue';
import { rowStatements } from '../store/bulk-write';
import { marks, selectRows } from '../store/row-reads';
import { Device, newDeviceRow } from './device.entity';
import { type DeviceFacts, sameDevice } from './rules';

const key = (source: string, deviceId: string) => `${source}\u0000${deviceId}`;

/** Where a batch keeps its device set (see {@link batchMemo}). */
const DEVICE_SET = 'inventory:device-set';

/**
 * The devices one writer batch has read or changed, and the writes it has yet
 * to make, like the recorder's working set: a device is read at most once per
 * batch (by its unique key) and written at most once, in one multi-row upsert
 * when the queue flushes the batch. A device update therefore costs one
 * indexed read and a share of one statement, whatever the fleet size.
 */
export class DeviceSet implements DeferredWrites {
  /** Devices by (source, device id); null: known not to exist. */
  private readonly devices = new Map<string, Device | null>();
  private readonly changed = new Set<Device>();
  /** False outside a writer batch (nobody would flush): writes are then made at once. */
  private readonly inBatch: boolean;

  private constructor(inBatch: boolean) {
    this.inBatch = inBatch;
  }

  /** The device set of the batch `tx` belongs to. */
  static of(tx: EntityManager): DeviceSet {
    const memo = batchMemo(tx);
    // batchMemo hands out a fresh map each time outside a batch.
    const inBatch = memo === batchMemo(tx);
    let set = memo.get(DEVICE_SET) as DeviceSet | undefined;
    if (!set) memo.set(DEVICE_SET, (set = new DeviceSet(inBatch)));
    return set;
  }

  /** The device, read if this batch has not read it yet; null when there is none. */
  async get(tx: EntityManager, source: UpgradeSource, deviceId: string): Promise<Device | null> {
    const k = key(source, deviceId);
    if (!this.devices.has(k)) {
      const [row] = await selectRows(tx, Device, { alias: 'd', where: 'd.source = ? AND d.device_id = ?', parameters: [source, deviceId], forUpdate: true });
      this.devices.set(k, row ?? null);
    }
    return this.devices.get(k) ?? null;
  }

  /** Several devices of one source, reading those not known yet in one query. */
  async getMany(tx: EntityManager, source: UpgradeSource, deviceIds: readonly string[]): Promise<Map<string, Device | null>> {
    await this.readerFor(
      tx,
      deviceIds.map((deviceId) => ({ source, deviceId })),
    )?.();
    return new Map(deviceIds.map((id) => [id, this.devices.get(key(source, id)) ?? null]));
  }

  /**
   * A read of those of `wanted` this batch does not know yet, for the
   * recorder's working set to send together with its own reads (one round
   * trip for a whole batch, rather than one read per message); null when all
   * are known. Rows this batch already holds are newer than what it reads and
   * are kept.
   */
  readerFor(tx: EntityManager, wanted: Iterable<{ readonly source: UpgradeSource; readonly deviceId: string }>): (() => Promise<unknown[]>) | null {
    const missing = new Map<UpgradeSource, Set<string>>();
    for (const { source, deviceId } of wanted) {
      if (this.devices.has(key(source, deviceId))) continue;
      let ids = missing.get(source);
      if (!ids) missing.set(source, (ids = new Set()));
      ids.add(deviceId);
    }
    if (missing.size === 0) return null;
    return async () => {
      for (const [source, ids] of missing) {
        const rows = await selectRows(tx, Device, { alias: 'd', where: `d.source = ? AND d.device_id IN (${marks(ids.size)})`, parameters: [source, ...ids], forUpdate: true });
        for (const row of rows) if (!this.devices.get(key(source, row.deviceId))) this.devices.set(key(source, row.deviceId), row);
        for (const id of ids) if (!this.devices.has(key(source, id))) this.devices.set(key(source, id), null);
      }
      return [];
    };
  }

  /**
   * The devices whose gateway is `gatewaySn` (a dock and its aircraft), through
   * the gateway index: as many rows as the dock has devices.
   */
  async childrenOf(tx: EntityManager, source: UpgradeSource, gatewaySn: string): Promise<Device[]> {
    // What this batch changed must be in the table before it is queried.
    await this.flush(tx);
    const rows = await selectRows(tx, Device, { alias: 'd', where: 'd.source = ? AND d.gateway_sn = ?', parameters: [source, gatewaySn], forUpdate: true });
    return rows.map((row) => {
      const k = key(source, row.deviceId);
      const known = this.devices.get(k);
      if (known) return known;
      this.devices.set(k, row);
      return row;
    });
  }

  /**
   * Stores `next` as the device's new state: creates the row, or changes the
   * one read. Returns the row when anything changed, null when `next` is what
   * was stored already (nothing is written then).
   */
  async put(tx: EntityManager, current: Device | null, next: DeviceFacts, at: Date): Promise<Device | null> {
    let row: Device;
    if (current === null) {
      row = newDeviceRow(next, at);
      this.devices.set(key(row.source, row.deviceId), row);
    } else {
      if (sameDevice(current, next)) return null;
      row = Object.assign(current, next, { updatedAt: at });
    }
    this.changed.add(row);
    if (!this.inBatch) await this.flush(tx);
    return row;
  }

  /** Writes every device changed since the last flush: one upsert per statement's worth of rows. */
  flush(tx: EntityManager): Promise<void> {
    return writeDeferred(tx, this.takeWrites(tx));
  }

  /** The statements that write every device changed since the last flush (see {@link DeferredWrites}). */
  takeWrites(tx: EntityManager): DeferredStatements | null {
    if (this.changed.size === 0) return null;
    const rows = [...this.changed];
    this.changed.clear();
    return { statements: rowStatements(tx, Device, rows, 'update') };
  }
}
