import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { perEntity, quote } from './entity-shapes';
import { hydrationOf, type ValueConversion } from './sqlite-dates';
import { rememberStored } from './stored-rows';

/** What a read of one entity's rows needs, worked out once per entity and data source. */
interface ReadShape {
  readonly metadata: EntityMetadata;
  /** The columns read: every stored one, each with how its stored value becomes the entity's. */
  readonly columns: readonly { readonly column: ColumnMetadata; readonly hydrate: ValueConversion }[];
  /** `"<alias>"."<column>", …` of the columns read, by alias (and selection). */
  readonly selects: Map<string, string>;
}

const shapeOf = perEntity<ReadShape>((metadata) => ({
  metadata,
  columns: metadata.columns.filter((c) => !c.isVirtual).map((column) => ({ column, hydrate: hydrationOf(metadata.connection, column) })),
  selects: new Map(),
}));

/** One read of {@link selectRows}. */
export interface RowQuery {
  /** The alias the entity's table has in `joins` and `where`. */
  readonly alias: string;
  /** Tables joined to narrow the rows (their columns are not read), e.g. `INNER JOIN upgrade_task t ON t.id = s.task_id`. */
  readonly joins?: string;
  /** The condition, with `?` for each parameter in order. */
  readonly where: string;
  readonly parameters: readonly unknown[];
  /** Only these columns, by property name (the others are left unset, as with `find`'s `select`); default all. */
  readonly select?: readonly string[];
  /**
   * The writer reads the rows to change them: remember what is stored of each,
   * so that their update sets only what changed (see stored-rows.ts).
   */
  readonly forUpdate?: boolean;
}

/**
 * The rows of one entity that `query` selects, read with one plain statement
 * and hydrated as TypeORM hydrates them (the driver's conversion of dates,
 * booleans and numbers, the columns' transformers; dates on SQLite by
 * sqlite-dates.ts, to the same values): the same entities
 * `find` returns, at a fraction of its cost.
 *
 * For the writer's reads, made for every batch: TypeORM builds a `find` by
 * way of its query builder (aliases, parameter escaping, a select expression
 * per column) and hydrates through a generic transformer that looks each
 * column up by its alias; in the fleet bench that was a tenth of the main
 * thread's busy time. This takes the statement's text from a cached shape and
 * sets each column straight from the row.
 *
 * `?` marks become `$1, $2, …` on PostgreSQL; the caller's SQL must hold no
 * other `?`.
 */
export async function selectRows<T extends ObjectLiteral>(tx: EntityManager, target: EntityTarget<T>, query: RowQuery): Promise<T[]> {
  const shape = shapeOf(tx, target as EntityTarget<ObjectLiteral>);
  const only = query.select;
  const columns = only ? shape.columns.filter((c) => only.includes(c.column.propertyName)) : shape.columns;
  const selectsKey = only ? `${query.alias}\u0000${only.join(',')}` : query.alias;
  let selects = shape.selects.get(selectsKey);
  if (selects === undefined) {
    selects = columns.map((c) => `${quote(query.alias)}.${quote(c.column.databaseName)}`).join(', ');
    shape.selects.set(selectsKey, selects);
  }
  let sql = `SELECT ${selects} FROM ${quote(shape.metadata.tableName)} ${quote(query.alias)}${query.joins ? ` ${query.joins}` : ''} WHERE ${query.where}`;
  if (tx.connection.options.type === 'postgres') {
    let n = 0;
    sql = sql.replace(/\?/g, () => `$${++n}`);
  }
  const raws = (await tx.query(sql, [...query.parameters])) as Record<string, unknown>[];
  return raws.map((raw) => {
    const entity = shape.metadata.create(undefined, { fromDeserializer: true }) as T;
    for (const { column, hydrate } of columns) {
      const value = raw[column.databaseName];
      if (value !== undefined) column.setEntityValue(entity, hydrate(value));
    }
    // A whole row: an update of it can leave out what did not change (see stored-rows.ts).
    if (query.forUpdate && !only) rememberStored(entity, raw);
    return entity;
  });
}

/** `?, ?, …`: one mark per value, for `IN (…)`. */
export function marks(count: number): string {
  return new Array<string>(count).fill('?').join(', ');
}
