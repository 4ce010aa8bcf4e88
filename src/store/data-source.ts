import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

/** The two engines the gateway runs on. */
export type DatabaseEngine = 'sqlite' | 'postgres';

/** Where the database is, parsed from `DATABASE_URL`. */
export type DatabaseLocation =
  | { readonly engine: 'sqlite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly url: string };

/**
 * Parses `DATABASE_URL`: `sqlite:<path>` (relative to the working directory,
 * `sqlite::memory:` for tests) or `postgres://…` / `postgresql://…`.
 * Throws with a message naming the variable on anything else.
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0) throw new Error('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/ota-gateway.sqlite');
    return { engine: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { engine: 'postgres', url };
  throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got "${url.slice(0, 40)}")`);
}

/** How long SQLite waits for a lock before a write fails with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** Builds (without connecting) the TypeORM data source for a location. */
export function createDataSource(location: DatabaseLocation): DataSource {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  } as const;
  let options: DataSourceOptions;
  if (location.engine === 'sqlite') {
    if (location.path !== ':memory:') mkdirSync(dirname(resolve(location.path)), { recursive: true });
    options = { ...common, type: 'sqlite', database: location.path, busyTimeout: SQLITE_BUSY_TIMEOUT_MS };
  } else {
    options = {
      ...common,
      type: 'postgres',
      url: location.url,
      // Two instances starting together must not both migrate: TypeORM takes a
      // table lock around the migration run inside this one transaction.
      migrationsTransactionMode: 'all',
      extra: { max: 10 },
    };
  }
  return new DataSource(options);
}

/**
 * Connects, tunes the engine and runs pending migrations.
 *
 * SQLite runs in WAL mode with `synchronous=FULL`: a commit the gateway
 * acknowledges survives a crash or power loss, and readers never block the writer.
 */
export async function openDatabase(location: DatabaseLocation): Promise<DataSource> {
  const dataSource = createDataSource(location);
  await dataSource.initialize();
  try {
    if (location.engine === 'sqlite') {
      if (location.path !== ':memory:') await dataSource.query('PRAGMA journal_mode = WAL');
      await dataSource.query('PRAGMA synchronous = FULL');
      await dataSource.query('PRAGMA foreign_keys = ON');
      await dataSource.query(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    }
    await dataSource.runMigrations({ transaction: location.engine === 'postgres' ? 'all' : 'each' });
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}
