/** The fleet inventory on PostgreSQL: the migration, the device upserts and every filter through the one translation. */
import type { DataSource } from 'typeorm';
import { UpgradeSource, type InboundEnvelope } from '../../src/domain';
import { DeviceReadStore } from '../../src/inventory/device-reads';
import { Inventory } from '../../src/inventory/inventory';
import type { InventoryObservation } from '../../src/inventory/observations';
import { markDjiOfflineAtStart } from '../../src/inventory/presence';
import { Recorder } from '../../src/recorder/recorder';
import { WriteQueue } from '../../src/recorder/write-queue';
import { openDatabase, parseDatabaseUrl } from '../../src/store/data-source';
import { createTestDatabase, describeWith, type TestDatabase } from './support/services';

function envelope(observation: InventoryObservation, key: string): InboundEnvelope {
  return { source: UpgradeSource.DJI, channel: observation.type, dedupeKey: key, raw: JSON.stringify(observation), receivedAt: new Date(), content: { kind: 'observation', observation } };
}

describeWith(['postgres'])('the inventory on PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDatabase(parseDatabaseUrl(db.url));
  });
  afterAll(async () => {
    await dataSource?.destroy().catch(() => undefined);
    await db?.drop();
  });

  test('topology and state are recorded, filtered, counted; a restart marks DJI devices offline', async () => {
    const queue = new WriteQueue(dataSource);
    const published: string[] = [];
    const recorder = new Recorder(queue, { publishProgress: () => undefined, publishShadow: () => undefined }, { inventory: new Inventory((d) => published.push(d.deviceId)) });
    await Promise.all([
      recorder.record(envelope({ type: 'topology', source: UpgradeSource.DJI, gateway: { deviceId: 'PGDOCK', model: '3-2-0' }, subDevices: [{ deviceId: 'PGUAV', model: '0-91-1' }] }, 'k1')),
      recorder.record(envelope({ type: 'deviceState', source: UpgradeSource.DJI, deviceId: 'PGUAV', gatewaySn: 'PGDOCK', firmwareVersion: 'V1', consistencyUpgradeNeeded: true }, 'k2')),
      recorder.record(envelope({ type: 'deviceState', source: UpgradeSource.DJI, deviceId: 'PGDOCK', gatewaySn: 'PGDOCK', firmwareVersion: 'V2', upgrading: true }, 'k3')),
    ]);
    const reads = new DeviceReadStore(dataSource);
    const ids = async (filter: object) => (await reads.list(filter, 50, null)).rows.map((d) => d.deviceId);
    expect(await ids({})).toEqual(['PGDOCK', 'PGUAV']);
    expect(await ids({ consistencyUpgradeNeeded: true })).toEqual(['PGUAV']);
    expect(await ids({ upgrading: true, online: true })).toEqual(['PGDOCK']);
    expect(await ids({ firmwareVersionNot: 'V2', gatewaySn: 'PGDOCK' })).toEqual(['PGUAV']);
    expect(await ids({ deviceIdPrefix: 'PGU', model: '0-91-1' })).toEqual(['PGUAV']);
    expect((await reads.list({}, 1, { source: 'DJI', deviceId: 'PGDOCK' })).rows.map((d) => d.deviceId)).toEqual(['PGUAV']);
    expect(await reads.firmwareVersions(null, UpgradeSource.DJI)).toEqual([
      { model: '0-91-1', modelName: 'Matrice 3TD', firmwareVersion: 'V1', count: 1 },
      { model: '3-2-0', modelName: 'DJI Dock 2', firmwareVersion: 'V2', count: 1 },
    ]);
    expect((await reads.subDevicesOf(['PGDOCK'])).map((d) => d.deviceId)).toEqual(['PGUAV']);
    expect(published).toEqual(expect.arrayContaining(['PGDOCK', 'PGUAV']));
    expect(await markDjiOfflineAtStart(queue, new Date())).toBe(2);
    expect(await ids({ online: false })).toEqual(['PGDOCK', 'PGUAV']);
  });
});
