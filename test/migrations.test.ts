import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../migrations';
import { createDataSource, openDatabase, parseDatabaseUrl } from '../src/store/data-source';

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
