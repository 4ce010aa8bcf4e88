/**
 * What the database holds of an entity the writer read, column by column, as
 * the driver returned it: so that an update can set only the columns whose
 * value changed (see `rowStatements`).
 *
 * Why it matters: SQLite rewrites the entries of every index that holds a
 * column an UPDATE sets, even to the value it already has, and each entry
 * rewritten is another page appended to the WAL and synced at commit. A
 * progress push changes of its device only when it was last seen, yet setting
 * every column rewrote the device's six indexes on other columns, and the
 * task's status index. Measured on 5 000 tasks and devices, pushes into
 * random ones in batches of 16: 14.4 WAL pages per push before, 8.1 after.
 *
 * The image is taken when `selectRows` reads a whole row `forUpdate` (the
 * writer's reads of the rows it may change) and replaced by the values
 * written once a write of the row succeeds. A row with no image (created by
 * this batch, or read some other way) has every column set. An image never
 * outlives its writer batch's reads: a batch that rolls back is run again
 * with fresh reads.
 */
/**
 * Kept on the entity itself, under a symbol and not enumerable (copies such
 * as `{ ...row }` and comparisons leave it out): a `WeakMap` entry cost 2–3 µs
 * to add, for every row the writer reads, against well under one.
 */
const STORED = Symbol('stored row');
type Imaged = { [STORED]?: Readonly<Record<string, unknown>> };

/** Remembers `values` (by column name, as the driver hands them over) as what is stored of `entity`. */
export function rememberStored(entity: object, values: Readonly<Record<string, unknown>>): void {
  if (Object.hasOwn(entity, STORED)) (entity as Imaged)[STORED] = values;
  else Object.defineProperty(entity, STORED, { value: values, writable: true, configurable: true, enumerable: false });
}

/** What is stored of `entity`, when known. */
export function storedOf(entity: object): Readonly<Record<string, unknown>> | undefined {
  return Object.hasOwn(entity, STORED) ? (entity as Imaged)[STORED] : undefined;
}

/** Gives `copy` the image of `original` (a working copy of a row read). */
export function keepStoredOf(original: object, copy: object): void {
  const stored = storedOf(original);
  if (stored) rememberStored(copy, stored);
}

/**
 * True when `stored` (a value as the driver read it) and `written` (the value
 * the driver would bind for it) are the same to the database. Conservative:
 * anything it cannot tell apart for sure counts as different, which only
 * costs a column set to the value it had.
 */
export function sameStoredValue(stored: unknown, written: unknown): boolean {
  if (stored === written) return true;
  if (stored == null || written == null) return stored == null && written == null;
  // PostgreSQL hands timestamps back as Dates and the driver binds Dates.
  if (stored instanceof Date && written instanceof Date) return stored.getTime() === written.getTime();
  // PostgreSQL hands bigint back as a string; the entity holds a number.
  if (typeof stored === 'string' && typeof written === 'number') return stored === String(written);
  return false;
}
