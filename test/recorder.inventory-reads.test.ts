/**
 * The inventory rides in the recorder's batch: a burst of pushes naming many
 * devices reads their device rows together with the batch's other reads, one
 * query per batch, not one per push (which once made every push wait for its
 * own round trip to SQLite). Counted as statements the driver ran, not time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { UpgradeSource, UpgradeStatus } from '../src/domain';
import { Device } from '../src/inventory/device.entity';
import { Inventory } from '../src/inventory/inventory';
import type { EventBus } from '../src/recorder/event-bus';
import { Recorder } from '../src/recorder/recorder';
import { WriteQueue } from '../src/recorder/write-queue';
import { openDatabase } from '../src/store/data-source';
import { huaweiEnvelope } from './support/observations';

let dir: string;
let dataSource: DataSource;
let recorder: Recorder;
const statements: string[] = [];
const bus: EventBus = { publishProgress: () => undefined, publishShadow: () => undefined };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-inventory-reads-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
  recorder = new Recorder(new WriteQueue(dataSource), bus, { inventory: new Inventory(() => undefined) });
  const driver = dataSource.driver as unknown as { databaseConnection: { on(event: 'trace', listener: (sql: string) => void): void } };
  driver.databaseConnection.on('trace', (sql) => statements.push(sql));
});
afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const count = (pattern: RegExp) => statements.filter((sql) => pattern.test(sql)).length;

/**
 * node-sqlite3 delivers its trace events asynchronously, after the statement's
 * own callback: a statement of the previous burst can arrive after the count
 * was reset (seen in CI). A marker statement, once traced, says that every
 * statement run before it has been traced too.
 */
let marks = 0;
async function traced(): Promise<void> {
  const marker = `SELECT 'trace mark ${++marks}'`;
  await dataSource.query(marker);
  while (!statements.includes(marker)) await new Promise((resolve) => setImmediate(resolve));
}
async function startCounting(): Promise<void> {
  await traced();
  statements.length = 0;
}

test('a burst of pushes for 300 devices reads the device table once per writer batch', async () => {
  await startCounting();
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => recorder.record(huaweiEnvelope({ operationId: 'burst', deviceId: `dev-${i}`, status: UpgradeStatus.SUCCEEDED }))),
  );
  await traced();
  const batches = count(/^BEGIN/);
  const deviceReads = count(/^SELECT .* FROM "device"/);
  expect(batches).toBeGreaterThan(0);
  expect(deviceReads).toBeLessThanOrEqual(batches);
  // And every device is in the inventory.
  expect(await dataSource.getRepository(Device).countBy({ source: UpgradeSource.HUAWEI })).toBe(300);

  // Known devices too: the second burst reads them back the same way.
  await startCounting();
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => recorder.record(huaweiEnvelope({ operationId: 'burst-2', deviceId: `dev-${i}`, status: UpgradeStatus.FAILED }))),
  );
  await traced();
  expect(count(/^SELECT .* FROM "device"/)).toBeLessThanOrEqual(count(/^BEGIN/));
});
