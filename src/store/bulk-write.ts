import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

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
  readonly primary: string;
  readonly generatedKey: string | null;
}

const SHAPES = new WeakMap<object, Map<unknown, TableShape>>();

function shapeOf(tx: EntityManager, target: EntityTarget<ObjectLiteral>): TableShape {
  let shapes = SHAPES.get(tx.connection);
  if (!shapes) SHAPES.set(tx.connection, (shapes = new Map()));
  let shape = shapes.get(target);
  if (!shape) {
    const metadata = tx.connection.getMetadata(target);
    const generated = metadata.columns.find((c) => c.isGenerated) ?? null;
    shape = {
      table: metadata.tableName,
      columns: metadata.columns.filter((c) => !c.isGenerated && !c.isVirtual),
      primary: metadata.primaryColumns[0].databaseName,
      generatedKey: generated?.databaseName ?? null,
    };
    shapes.set(target, shape);
  }
  return shape;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

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
 * column of the stored one (`ON CONFLICT … DO UPDATE`, the same on SQLite and
 * PostgreSQL): the caller hands whole rows it read and changed. A conflict on
 * any other unique key still fails the statement.
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
  if (rows.length === 0) return [];
  const shape = shapeOf(tx, target as EntityTarget<ObjectLiteral>);
  const postgres = tx.connection.options.type === 'postgres';
  const driver = tx.connection.driver;
  const names = shape.columns.map((c) => quote(c.databaseName)).join(', ');
  const conflict =
    onExisting === 'update'
      ? ` ON CONFLICT (${quote(shape.primary)}) DO UPDATE SET ${shape.columns
          .filter((c) => c.databaseName !== shape.primary)
          .map((c) => `${quote(c.databaseName)} = excluded.${quote(c.databaseName)}`)
          .join(', ')}`
      : '';
  const returning = shape.generatedKey ? ` RETURNING ${quote(shape.generatedKey)}` : '';
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / shape.columns.length));
  const keys: number[] = [];

  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const parameters: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      const marks: string[] = [];
      for (const column of shape.columns) {
        parameters.push(driver.preparePersistentValue(row[column.propertyName], column));
        marks.push(postgres ? `$${parameters.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    const sql = `INSERT INTO ${quote(shape.table)} (${names}) VALUES ${tuples.join(', ')}${conflict}${returning}`;
    const returned = await runReturning(tx, sql, parameters);
    if (shape.generatedKey) {
      const column = shape.generatedKey;
      keys.push(...returned.map((r) => Number(r[column])).sort((a, b) => a - b));
    }
  }
  return keys;
}

/**
 * Runs a statement in `tx` and returns its rows. On SQLite it goes to the
 * driver's connection directly, as every TypeORM query there does: TypeORM's
 * own `query()` runs any statement that starts with `INSERT` without
 * collecting rows, which would drop `RETURNING`.
 */
async function runReturning(tx: EntityManager, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
  if (tx.connection.options.type !== 'sqlite') return (await tx.query(sql, parameters)) as Record<string, unknown>[];
  const database = (tx.connection.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  return new Promise((resolve, reject) => {
    database.all(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows)));
  });
}

interface SqliteConnection {
  all(sql: string, parameters: unknown[], callback: (error: Error | null, rows: Record<string, unknown>[]) => void): void;
}
