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

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1–12; H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * `YYYY-MM-DD HH:MM:SS.SSS` (UTC) as a Date; null for any other text, and
 * for days past the 28th or years before 1000, which the driver handles
 * (its `new Date(text)` refuses what does not exist; arithmetic would roll it over).
 * Arithmetic rather than `Date.UTC`, a call into the runtime twice as slow.
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
  return new Date(daysFromCivil(year, month, day) * 86_400_000 + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + millis);
}

/** `00` … `99` and `000` … `999`: the fields of a stored date, without a pad per field. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * A Date as TypeORM stores it on SQLite, `YYYY-MM-DD HH:MM:SS.SSS` (UTC);
 * null for an invalid date or a year outside 1000–9999, which the driver
 * handles. From the UTC fields and tables of digits: `toISOString`, a call
 * into the runtime, takes five times as long.
 */
export function formatStoredUtc(date: Date): string | null {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return null; // NaN for an invalid date
  return `${year}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]} ${TWO_DIGITS[date.getUTCHours()]}:${TWO_DIGITS[date.getUTCMinutes()]}:${TWO_DIGITS[date.getUTCSeconds()]}.${THREE_DIGITS[date.getUTCMilliseconds()]}`;
}
