import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { EMPTY_TALLY, UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';
import { SubTaskRow } from '../src/recorder/working-set';
import { rowStatements, runStatements, writeRows } from '../src/store/bulk-write';
import { selectRows } from '../src/store/row-reads';
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

describe('an update of a row read in full sets only the columns that changed', () => {
  const created = new Date('2026-11-26T08:00:00.000Z');
  const later = new Date('2026-11-26T09:00:00.000Z');
  /** The columns a statement sets on an existing row (an upsert's, or a plain update's on SQLite). */
  const setList = (statement: { sql: string }) => [...statement.sql.slice(statement.sql.indexOf(' SET ')).matchAll(/"(\w+)" = (?:excluded\.|v\.c)/g)].map((m) => m[1]);
  const readBack = (id: string) => dataSource.getRepository(UpgradeSubTask).findOneByOrFail({ id });
  const read = (tx: EntityManager, id: string) => selectRows(tx, UpgradeSubTask, { alias: 's', where: 's.id = ?', parameters: [id], forUpdate: true }).then(([row]) => row);

  let stored: UpgradeSubTask;
  beforeEach(async () => {
    const parent = task();
    stored = Object.assign(newSubTask(parent.id, 'dock-1', created), { percent: 10 });
    await dataSource.transaction(async (tx) => {
      await writeRows(tx, UpgradeTask, [parent]);
      await writeRows(tx, UpgradeSubTask, [stored]);
    });
  });

  test('only the changed columns, and nothing at all for a row left as read', async () => {
    await dataSource.transaction(async (tx) => {
      const row = await read(tx, stored.id);
      expect(rowStatements(tx, UpgradeSubTask, [row], 'update')).toEqual([]);
      Object.assign(row, { percent: 40, updatedAt: later });
      const statements = rowStatements(tx, UpgradeSubTask, [row], 'update');
      expect(statements).toHaveLength(1);
      expect(setList(statements[0])).toEqual(['percent', 'updated_at']);
      // The row exists: SQLite updates it by its key, binding the key and the two values only.
      expect(statements[0].sql).toMatch(/^WITH v\(k, c0, c1\) AS \(VALUES \(\?, \?, \?\)\) UPDATE "upgrade_sub_task" SET/);
      expect(statements[0].parameters).toEqual([stored.id, 40, expect.any(String)]);
      await runStatements(tx, statements);
    });
    expect(await readBack(stored.id)).toMatchObject({ percent: 40, updatedAt: later, status: stored.status, lastObservedAt: created });
  });

  test('a value changed back after a write of the same batch is written again (the image follows each write)', async () => {
    await dataSource.transaction(async (tx) => {
      const row = await read(tx, stored.id);
      row.percent = 40;
      await runStatements(tx, rowStatements(tx, UpgradeSubTask, [row], 'update'));
      row.percent = 10;
      const statements = rowStatements(tx, UpgradeSubTask, [row], 'update');
      expect(setList(statements[0])).toEqual(['percent']);
      await runStatements(tx, statements);
    });
    expect((await readBack(stored.id)).percent).toBe(10);
  });

  test('rows changed differently are grouped by what they set; a row not read sets every column', async () => {
    const fresh = newSubTask(stored.taskId, 'dock-2', created);
    await dataSource.transaction(async (tx) => {
      const row = await read(tx, stored.id);
      const copy = SubTaskRow.from(row);
      copy.status = UpgradeStatus.IN_PROGRESS;
      const statements = rowStatements(tx, UpgradeSubTask, [copy, fresh], 'update');
      expect(statements.map(setList)).toEqual([['status'], expect.arrayContaining(['status', 'percent', 'updated_at'])]);
      expect(statements[1].sql).toContain('ON CONFLICT ("id") DO UPDATE SET');
      await runStatements(tx, statements);
    });
    expect((await readBack(stored.id)).status).toBe(UpgradeStatus.IN_PROGRESS);
    expect((await readBack(fresh.id)).deviceId).toBe('dock-2');
  });
});
