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

/** How long PostgreSQL lets a gateway session idle inside an open transaction before ending it. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * The sqlite3 module as TypeORM should get it. TypeORM always switches the
 * driver to "verbose" mode, which builds an Error (for a stack trace) and
 * inspects every argument on each call: a fifth of the gateway's CPU under
 * ingest load (measured by the bench). This hands it the plain module instead.
 */
function quietSqlite3(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require('sqlite3') as { verbose(): unknown };
  return Object.assign(Object.create(sqlite3), { verbose: () => sqlite3 });
}

/** What the gateway calls on node-sqlite3's connection itself, where TypeORM's query runner would cost more. */
export interface SqliteConnection {
  all(sql: string, parameters: readonly unknown[], callback: (error: Error | null, rows: Record<string, unknown>[]) => void): void;
  exec(sql: string, callback: (error: Error | null) => void): void;
  serialize(): void;
}

/** The node-sqlite3 connection under a SQLite data source (TypeORM's driver keeps it, untyped). */
export function sqliteConnectionOf(dataSource: DataSource): SqliteConnection {
  return (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

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
    options = { ...common, type: 'sqlite', database: location.path, busyTimeout: SQLITE_BUSY_TIMEOUT_MS, driver: quietSqlite3() };
  } else {
    options = {
      ...common,
      type: 'postgres',
      url: location.url,
      // All pending migrations commit together or not at all. (TypeORM takes no
      // lock of its own: `openDatabase` serialises instances that start together.)
      migrationsTransactionMode: 'all',
      extra: {
        max: 10,
        // A session that sits inside a transaction doing nothing (its instance
        // frozen or cut off mid-batch) is ended by the server after this, which
        // releases the writer lock every other instance waits for (see WriteQueue).
        // Batches never idle that long. A DATABASE_URL `options` parameter takes precedence.
        options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`,
      },
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
      // Statements run in the order they are sent, so the writer may send several
      // at once and wait for one round trip (see runStatements in bulk-write).
      sqliteConnectionOf(dataSource).serialize();
    }
    if (location.engine === 'postgres') {
      await withMigrationLock(dataSource, () => dataSource.runMigrations({ transaction: 'all' }));
    } else {
      await dataSource.runMigrations({ transaction: 'each' });
    }
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/** The advisory lock key that serialises migration runs on one PostgreSQL database. */
const MIGRATION_LOCK = `hashtext('ota-gateway:migrations')`;

/**
 * Runs `migrate` holding a session-level advisory lock on its own connection.
 * TypeORM takes no lock: two instances starting together would both create the
 * `migrations` table and both run the pending migrations, and one of them fail.
 * The second one waits here, then finds nothing pending. A crashed holder's
 * session ends, which releases the lock.
 */
async function withMigrationLock<T>(dataSource: DataSource, migrate: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      return await migrate();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
    }
  } finally {
    await runner.release().catch(() => undefined);
  }
}

/**
 * The connection reads go through. TypeORM's SQLite driver runs every query of
 * a data source on one connection, so reads sent while the writer's transaction
 * is open would run inside it and see what is not committed yet (and could be
 * rolled back). A second, read-only connection to the same file sees only
 * committed data (WAL lets it read while the writer writes). PostgreSQL pools
 * connections, and an in-memory SQLite database cannot be shared: both keep
 * using the writer's data source.
 */
export async function openReadDataSource(location: DatabaseLocation, writer: DataSource): Promise<DataSource> {
  if (location.engine !== 'sqlite' || location.path === ':memory:') return writer;
  const reader = createDataSource(location);
  await reader.initialize();
  try {
    await reader.query(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    await reader.query('PRAGMA query_only = ON');
  } catch (error) {
    await reader.destroy().catch(() => undefined);
    throw error;
  }
  return reader;
}
