import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * Date columns on SQLite, converted the way TypeORM's driver converts them,
 * without its cost. TypeORM stores a `Date` column as UTC text,
 * `YYYY-MM-DD HH:MM:SS.SSS`; reading one back it runs two regular
 * expressions, a replace and `new Date(text)`, writing one eight string pads.
 * The writer converts a dozen dates for every message it records (the rows
 * it reads, the rows it writes): in the fleet bench's profile those three
 * driver functions took 2.6 % of the main thread. Anything but that exact
 * text, or a date it cannot hold, goes to the driver as before.
 */

/** The driver's conversion of a stored value to the entity's, or a faster one giving the same. */
export type ValueConversion = (value: unknown) => unknown;

/** True for a column the fast conversions apply to: a `Date` column of SQLite without a transformer. */
function isPlainSqliteDate(dataSource: DataSource, column: ColumnMetadata): boolean {
  return dataSource.options.type === 'sqlite' && (column.type === Date || column.type === 'datetime') && column.transformer === undefined;
}

/** How to hydrate a stored value of `column` (see `prepareHydratedValue`). */
export function hydrationOf(dataSource: DataSource, column: ColumnMetadata): ValueConversion {
  const driver = dataSource.driver;
  if (!isPlainSqliteDate(dataSource, column)) return (value) => driver.prepareHydratedValue(value, column);
  return (value) => (typeof value === 'string' ? parseStoredUtc(value) : null) ?? driver.prepareHydratedValue(value, column);
}

/** How to turn a value of `column` into what is stored (see `preparePersistentValue`). */
export function persistenceOf(dataSource: DataSource, column: ColumnMetadata): ValueConversion {
  const driver = dataSource.driver;
  if (!isPlainSqliteDate(dataSource, column)) return (value) => driver.preparePersistentValue(value, column);
  return (value) => (value instanceof Date ? formatStoredUtc(value) : null) ?? driver.preparePersistentValue(value, column);
}

const ZERO = 48;

/** The number written in `text` from `start` to `end`, or -1 when any of those characters is not a digit. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * `YYYY-MM-DD HH:MM:SS.SSS` (UTC) as a Date; null for any other text, and
 * for days past the 28th or years before 1000, which the driver handles (its
 * `new Date` rolls no date over; `Date.UTC` would, and reads years below 100 as 19xx).
 */
export function parseStoredUtc(text: string): Date | null {
  if (text.length !== 23) return null;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== ' ' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.') return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hours = digits(text, 11, 13);
  const minutes = digits(text, 14, 16);
  const seconds = digits(text, 17, 19);
  const millis = digits(text, 20, 23);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28 || hours < 0 || hours > 23) return null;
  if (minutes < 0 || minutes > 59 || seconds < 0 || seconds > 59 || millis < 0) return null;
  return new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, millis));
}

/**
 * A Date as TypeORM stores it on SQLite, `YYYY-MM-DD HH:MM:SS.SSS` (UTC),
 * from `toISOString`; null for an invalid date or a year outside 0–9999,
 * which the driver handles.
 */
export function formatStoredUtc(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  if (iso.length !== 24) return null;
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
