import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../migrations';
import { tallyOf } from '../src/domain';
import { createDataSource, openDatabase, parseDatabaseUrl } from '../src/store/data-source';
import { UpgradeSubTask, UpgradeTask, tallyOfTask } from '../src/store/entities';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-migrations-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tables = async (ds: ReturnType<typeof createDataSource>) =>
  (await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)).map(
    (r: { name: string }) => r.name,
  );

test('migrations run up on a fresh SQLite file, match the entities, and run down to nothing', async () => {
  const location = { engine: 'sqlite' as const, path: join(dir, 'updown.sqlite') };
  const ds = await openDatabase(location);
  expect(await tables(ds)).toEqual(expect.arrayContaining(['inbound_message', 'progress_event', 'shadow_event', 'upgrade_sub_task', 'upgrade_task']));
  // The entities and the hand-written migrations describe the same schema.
  const pending = await ds.driver.createSchemaBuilder().log();
  expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);

  for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration();
  expect(await tables(ds)).toEqual(['migrations']);
  await ds.runMigrations();
  expect(await tables(ds)).toContain('upgrade_task');
  await ds.destroy();
});

test('opening an existing database runs nothing twice', async () => {
  const location = { engine: 'sqlite' as const, path: join(dir, 'twice.sqlite') };
  await (await openDatabase(location)).destroy();
  const ds = await openDatabase(location);
  const applied = await ds.query('SELECT name FROM migrations');
  expect(applied).toHaveLength(MIGRATIONS.length);
  await ds.destroy();
});

test.each([
  ['sqlite:./data/x.sqlite', { engine: 'sqlite', path: './data/x.sqlite' }],
  ['sqlite::memory:', { engine: 'sqlite', path: ':memory:' }],
  ['postgres://u@h:5432/db', { engine: 'postgres', url: 'postgres://u@h:5432/db' }],
  ['postgresql://u@h/db', { engine: 'postgres', url: 'postgresql://u@h/db' }],
])('DATABASE_URL %s', (url, expected) => {
  expect(parseDatabaseUrl(url)).toEqual(expected);
});

test('an unsupported DATABASE_URL is refused with a message naming the variable', () => {
  expect(() => parseDatabaseUrl('mysql://x')).toThrow(/DATABASE_URL must start with sqlite: or postgres:\/\//);
  expect(() => parseDatabaseUrl('sqlite:')).toThrow(/DATABASE_URL/);
});

test('the task tally migration counts the sub-tasks of tasks that exist', async () => {
  const ds = await openDatabase({ engine: 'sqlite' as const, path: join(dir, 'tally.sqlite') });
  const last = async () => (await ds.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1'))[0].name as string;
  while ((await last()) !== 'OutboundCommand1763856000000') await ds.undoLastMigration();
  const at = '2026-11-25 12:00:00.000';
  await ds.query(
    `INSERT INTO upgrade_task (id, source, kind, external_id, status, progress, created_at, updated_at) VALUES
      ('t1', 'DJI', 'FIRMWARE', 'b1', 'IN_PROGRESS', 50, ?, ?), ('t2', 'HUAWEI', 'FIRMWARE', 'o2', 'PENDING', NULL, ?, ?)`,
    [at, at, at, at],
  );
  const sub = (id: string, device: string, status: string, step: string | null, percent: number | null) =>
    ds.query(
      `INSERT INTO upgrade_sub_task (id, task_id, device_id, status, step, percent, last_observed_at, created_at, updated_at)
       VALUES (?, 't1', ?, ?, ?, ?, ?, ?, ?)`,
      [id, device, status, step, percent, at, at, at],
    );
  await sub('s1', 'dock', 'IN_PROGRESS', 'upgrade_firmware', 40);
  await sub('s2', 'aircraft', 'SUCCEEDED', 'upgrade_firmware', 90);
  await sub('s3', 'rc', 'IN_PROGRESS', 'download_firmware', 30);
  await ds.runMigrations();

  const [t1, t2] = await ds.getRepository(UpgradeTask).find({ order: { id: 'ASC' } });
  const subTasks = await ds.getRepository(UpgradeSubTask).find({ order: { id: 'ASC' } });
  expect(subTasks.map((s) => s.progress)).toEqual([70, 100, 15]);
  expect(tallyOfTask(t1)).toEqual(tallyOf(subTasks));
  expect(t1).toMatchObject({ inProgressCount: 2, succeededCount: 1, progressSum: 185, progress: 62 });
  expect(t2).toMatchObject({ pendingCount: 0, progressSum: 0, progress: null });
  await ds.destroy();
});
