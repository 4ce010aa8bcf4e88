import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';

/**
 * What a statement builder works out once per entity and data source from the
 * entity's metadata (column lists, SQL fragments), then reuses for every batch.
 */
export function perEntity<T>(build: (metadata: EntityMetadata) => T): (tx: EntityManager, target: EntityTarget<ObjectLiteral>) => T {
  const byConnection = new WeakMap<object, Map<unknown, T>>();
  return (tx, target) => {
    let byTarget = byConnection.get(tx.connection);
    if (!byTarget) byConnection.set(tx.connection, (byTarget = new Map()));
    let shape = byTarget.get(target);
    if (shape === undefined) {
      shape = build(tx.connection.getMetadata(target));
      byTarget.set(target, shape);
    }
    return shape;
  };
}

/** A table or column name quoted for SQLite and PostgreSQL alike. */
export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
