import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { EMPTY_TALLY, UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';
import { rowStatements, writeRows } from '../src/store/bulk-write';
import { openDatabase } from '../src/store/data-source';
import { UpgradeSubTask, UpgradeTask, newSubTask, storeTally } from '../src/store/entities';

let dir: string;
let dataSource: DataSource;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-bulk-write-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'gateway.sqlite') });
});

afterEach(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function task(): UpgradeTask {
  const at = new Date('2026-11-26T08:00:00.000Z');
  const row = Object.assign(new UpgradeTask(), {
    id: 'c0d5a7a2-8f7e-4d55-9b9b-000000000001',
    source: UpgradeSource.DJI,
    kind: UpgradeKind.FIRMWARE,
    externalId: 'bid-1',
    appId: null,
    gatewaySn: null,
    status: UpgradeStatus.PENDING,
    progress: null,
    createdAt: at,
    updatedAt: at,
  });
  storeTally(row, EMPTY_TALLY);
  return row;
}

test('an update writes what changed and keeps the row identity and creation date as stored', async () => {
  const created = new Date('2026-11-26T08:00:00.000Z');
  const later = new Date('2026-11-26T09:00:00.000Z');
  const parent = task();
  const subTask = newSubTask(parent.id, 'dock-1', created);
  await dataSource.transaction(async (tx) => {
    await writeRows(tx, UpgradeTask, [parent]);
    await writeRows(tx, UpgradeSubTask, [subTask]);
  });

  // A caller handing a whole row whose identity and creation date differ from the stored ones changes neither.
  const changed = Object.assign(new UpgradeSubTask(), subTask, {
    deviceId: 'another-device',
    status: UpgradeStatus.IN_PROGRESS,
    percent: 40,
    lastObservedAt: later,
    createdAt: later,
    updatedAt: later,
  });
  await dataSource.transaction((tx) => writeRows(tx, UpgradeSubTask, [changed], 'update'));

  const stored = await dataSource.getRepository(UpgradeSubTask).findOneByOrFail({ id: subTask.id });
  expect(stored).toMatchObject({ deviceId: 'dock-1', status: UpgradeStatus.IN_PROGRESS, percent: 40, lastObservedAt: later, updatedAt: later, createdAt: created });
});

test('an update sets no column of a unique key, nor a creation date (SQLite would rewrite those indexes for nothing)', () => {
  const set = (target: typeof UpgradeTask | typeof UpgradeSubTask) => {
    const [statement] = rowStatements(dataSource.manager, target, [{} as never], 'update');
    return statement.sql.slice(statement.sql.indexOf('DO UPDATE SET'));
  };
  for (const column of ['"id"', '"source"', '"external_id"', '"created_at"']) expect(set(UpgradeTask)).not.toContain(`${column} =`);
  for (const column of ['"id"', '"task_id"', '"device_id"', '"created_at"']) expect(set(UpgradeSubTask)).not.toContain(`${column} =`);
  expect(set(UpgradeSubTask)).toContain('"status" = excluded."status"');
});
