import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { sqliteConnectionOf } from './data-source';
import { perEntity, quote } from './entity-shapes';
import { persistenceOf, type ValueConversion } from './sqlite-dates';
import { rememberStored, sameStoredValue, storedOf } from './stored-rows';

/**
 * Most parameters bound to one statement. SQLite allows 32 766, PostgreSQL
 * 65 535; rows beyond this go into a further statement.
 */
const MAX_PARAMETERS = 30_000;

/** How a statement writes rows that already exist (by primary key). */
export type OnExisting = 'fail' | 'update';

interface TableShape {
  readonly table: string;
  /** The columns written: every column but a database-generated key. */
  readonly columns: readonly ColumnMetadata[];
  /** How each of `columns` turns an entity's value into what is stored (`preparePersistentValue`; dates on SQLite by sqlite-dates.ts). */
  readonly persist: readonly ValueConversion[];
  /**
   * The columns an `update` write sets: all but the row's identity (its
   * primary key and the columns of its unique keys) and the columns declared
   * `update: false` (creation dates), none of which change once a row exists.
   * SQLite rewrites the entries of every index holding a column a statement
   * sets, even to the same value: leaving these out spares a sub-task two of
   * the three index entries each update rewrote.
   */
  readonly updatable: readonly ColumnMetadata[];
  readonly primary: string;
  readonly generatedKey: string | null;
}

const shapeOf = perEntity<TableShape>((metadata) => {
  const generated = metadata.columns.find((c) => c.isGenerated) ?? null;
  const columns = metadata.columns.filter((c) => !c.isGenerated && !c.isVirtual);
  const identity = new Set<ColumnMetadata>([
    ...metadata.primaryColumns,
    ...metadata.uniques.flatMap((u) => u.columns),
    ...metadata.indices.filter((i) => i.isUnique).flatMap((i) => i.columns),
    ...columns.filter((c) => !c.isUpdate),
  ]);
  return {
    table: metadata.tableName,
    columns,
    persist: columns.map((column) => persistenceOf(metadata.connection, column)),
    updatable: columns.filter((c) => !identity.has(c)),
    primary: metadata.primaryColumns[0].databaseName,
    generatedKey: generated?.databaseName ?? null,
  };
});

/** One statement of a bulk write, and how to read the generated keys from what it returns. */
export interface RowStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  /** The generated key column, when the table has one (the statement returns it). */
  readonly generatedKey: string | null;
  /** Called once the statement has run without error (see {@link runStatements}). */
  readonly afterWrite?: () => void;
}

/**
 * The statements that write many rows of one entity, in as few statements as
 * the engine's parameter limit allows (see {@link writeRows}).
 */
export function rowStatements<T extends ObjectLiteral>(
  tx: EntityManager,
  target: EntityTarget<T>,
  rows: readonly T[],
  onExisting: OnExisting = 'fail',
): RowStatement[] {
  if (rows.length === 0) return [];
  const shape = shapeOf(tx, target as EntityTarget<ObjectLiteral>);
  const valuesOf = (row: T) => shape.columns.map((column, i) => shape.persist[i](row[column.propertyName]));
  if (onExisting === 'fail') return statementsFor(tx, shape, rows.map(valuesOf), null);

  // Rows grouped by the columns an update must set: every updatable one for a
  // row not read (new, or read some other way), only those whose value changed
  // for a row read in full; a row read and not changed is not written at all.
  const groups = new Map<string, { set: readonly ColumnMetadata[]; values: unknown[][]; rows: T[] }>();
  const updatableAt = shape.updatable.map((column) => shape.columns.indexOf(column));
  for (const row of rows) {
    const values = valuesOf(row);
    const stored = storedOf(row);
    const set = stored ? shape.updatable.filter((column, i) => !sameStoredValue(stored[column.databaseName], values[updatableAt[i]])) : shape.updatable;
    if (stored && set.length === 0) continue;
    const key = stored ? set.map((column) => column.databaseName).join(',') : '';
    const group = groups.get(key) ?? { set, values: [], rows: [] };
    groups.set(key, group);
    group.values.push(values);
    group.rows.push(row);
  }
  const sqlite = tx.connection.options.type === 'sqlite';
  return [...groups.entries()].flatMap(([key, group]) => {
    // Rows read in full exist: on SQLite a plain update binds their key and changed columns only.
    const statements = key !== '' && sqlite ? updateStatementsFor(shape, group.values, group.set) : statementsFor(tx, shape, group.values, group.set);
    // Once the group's last statement is written, that is what the database holds of its rows (see stored-rows.ts).
    const last = statements.length - 1;
    statements[last] = { ...statements[last], afterWrite: () => group.rows.forEach((row, i) => rememberStored(row, storedImage(shape, group.values[i]))) };
    return statements;
  });
}

/**
 * SQLite: the statements that set `set` on existing rows (`values`: rows of
 * `shape.columns`), found by primary key. One `UPDATE … FROM` a list of
 * values per statement: a row binds its key and the columns it changes, not
 * every column as an upsert must (binding is the driver's work on the main
 * thread), and SQLite looks each row up once instead of trying an insert first.
 * (PostgreSQL would type the listed values as text: it keeps the upsert.)
 */
function updateStatementsFor(shape: TableShape, values: readonly (readonly unknown[])[], set: readonly ColumnMetadata[]): RowStatement[] {
  const keyAt = shape.columns.findIndex((c) => c.databaseName === shape.primary);
  const setAt = set.map((column) => shape.columns.indexOf(column));
  const names = ['k', ...set.map((_, i) => `c${i}`)];
  const table = quote(shape.table);
  const assignments = set.map((column, i) => `${quote(column.databaseName)} = v.c${i}`).join(', ');
  const tuple = `(${names.map(() => '?').join(', ')})`;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / names.length));
  const statements: RowStatement[] = [];
  for (let start = 0; start < values.length; start += perStatement) {
    const rows = values.slice(start, start + perStatement);
    const parameters = rows.flatMap((row) => [row[keyAt], ...setAt.map((i) => row[i])]);
    const sql = `WITH v(${names.join(', ')}) AS (VALUES ${rows.map(() => tuple).join(', ')}) UPDATE ${table} SET ${assignments} FROM v WHERE ${table}.${quote(shape.primary)} = v.k`;
    statements.push({ sql, parameters, generatedKey: null });
  }
  return statements;
}

/** The statements that insert `values` (rows of `shape.columns`), setting `set` on a row that exists, or failing on one when `set` is null. */
function statementsFor(tx: EntityManager, shape: TableShape, values: readonly (readonly unknown[])[], set: readonly ColumnMetadata[] | null): RowStatement[] {
  const postgres = tx.connection.options.type === 'postgres';
  const names = shape.columns.map((c) => quote(c.databaseName)).join(', ');
  const conflict =
    set === null
      ? ''
      : set.length === 0
        ? ` ON CONFLICT (${quote(shape.primary)}) DO NOTHING`
        : ` ON CONFLICT (${quote(shape.primary)}) DO UPDATE SET ${set.map((c) => `${quote(c.databaseName)} = excluded.${quote(c.databaseName)}`).join(', ')}`;
  const returning = shape.generatedKey ? ` RETURNING ${quote(shape.generatedKey)}` : '';
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / shape.columns.length));
  const statements: RowStatement[] = [];
  for (let start = 0; start < values.length; start += perStatement) {
    const parameters: unknown[] = [];
    const tuples: string[] = [];
    for (const row of values.slice(start, start + perStatement)) {
      const marks: string[] = [];
      for (const value of row) {
        parameters.push(value);
        marks.push(postgres ? `$${parameters.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    const sql = `INSERT INTO ${quote(shape.table)} (${names}) VALUES ${tuples.join(', ')}${conflict}${returning}`;
    statements.push({ sql, parameters, generatedKey: shape.generatedKey });
  }
  return statements;
}

/** A row's bound values by column name: what the database holds once they are written. */
function storedImage(shape: TableShape, values: readonly unknown[]): Record<string, unknown> {
  const image: Record<string, unknown> = {};
  shape.columns.forEach((column, i) => (image[column.databaseName] = values[i]));
  return image;
}

/**
 * Runs independent queries of one transaction in the order given and resolves
 * with their results in that order. On SQLite they are all sent at once: the
 * connection runs them one after the other (`openDatabase` puts it in
 * serialized mode), so the writer waits for one hand-off to the driver's
 * thread instead of one each; every one finishes before the first failure is
 * thrown. Elsewhere they run one by one: a PostgreSQL client would queue them
 * too, but pg deprecates sending a query while one is running, and a round
 * trip to a server costs little next to the query.
 */
export async function sendTogether<T>(tx: EntityManager, queries: readonly (() => Promise<T>)[]): Promise<T[]> {
  if (tx.connection.options.type !== 'sqlite') {
    const results: T[] = [];
    for (const query of queries) results.push(await query());
    return results;
  }
  const settled = await Promise.allSettled(queries.map((query) => query()));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * Runs statements in `tx` in the given order (sent together, see
 * {@link sendTogether}) and resolves with the generated keys of each, sorted
 * (see {@link writeRows}).
 */
export async function runStatements(tx: EntityManager, statements: readonly RowStatement[]): Promise<number[][]> {
  const returned = await sendTogether(
    tx,
    statements.map((s) => () => runReturning(tx, s.sql, s.parameters)),
  );
  for (const statement of statements) statement.afterWrite?.();
  return returned.map((rows, i) => {
    const column = statements[i].generatedKey;
    return column ? rows.map((r) => Number(r[column])).sort((a, b) => a - b) : [];
  });
}

/**
 * Writes many rows of one entity in as few statements as the engine's
 * parameter limit allows, inside `tx`, and returns the generated keys in the
 * order of `rows` (an empty list for a table without one).
 *
 * This is the write path's answer to the per-row cost of TypeORM's
 * `insert`/`update` (query building, a round trip to the driver's thread per
 * row): one multi-row `INSERT` per table and batch. Values are converted by
 * the driver exactly as TypeORM would (`preparePersistentValue`: dates,
 * booleans, transformers), so TypeORM reads the rows back unchanged.
 *
 * With `onExisting: 'update'`, a row whose primary key exists replaces every
 * column of the stored one but its identity (`ON CONFLICT … DO UPDATE`, the
 * same on SQLite and PostgreSQL; see `TableShape.updatable`): the caller
 * hands whole rows it read and changed. A row `selectRows` read `forUpdate`
 * sets only the columns whose value changed, and is not written at all when
 * none did (see stored-rows.ts). A conflict on any other unique key still
 * fails the statement.
 *
 * Keys come from `RETURNING`, sorted: both engines draw them in ascending
 * order as the rows of one `VALUES` list are inserted, which is the order of
 * `rows`.
 */
export async function writeRows<T extends ObjectLiteral>(
  tx: EntityManager,
  target: EntityTarget<T>,
  rows: readonly T[],
  onExisting: OnExisting = 'fail',
): Promise<number[]> {
  return (await runStatements(tx, rowStatements(tx, target, rows, onExisting))).flat();
}

/**
 * Runs a statement in `tx` and returns its rows. On SQLite it goes to the
 * driver's connection directly, as every TypeORM query there does: TypeORM's
 * own `query()` runs any statement that starts with `INSERT` without
 * collecting rows, which would drop `RETURNING`.
 */
function runReturning(tx: EntityManager, sql: string, parameters: readonly unknown[]): Promise<Record<string, unknown>[]> {
  if (tx.connection.options.type !== 'sqlite') return tx.query(sql, [...parameters]) as Promise<Record<string, unknown>[]>;
  const database = sqliteConnectionOf(tx.connection);
  return new Promise((resolve, reject) => {
    database.all(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows)));
  });
}
