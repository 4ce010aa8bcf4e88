import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { openDatabase } from '../src/store/data-source';
import { UpgradeTask } from '../src/store/entities';
import { formatStoredUtc, hydrationOf, parseStoredUtc, persistenceOf } from '../src/store/sqlite-dates';

let dir: string;
let dataSource: DataSource;
let createdAt: ColumnMetadata;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-sqlite-dates-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'gateway.sqlite') });
  createdAt = dataSource.getMetadata(UpgradeTask).findColumnWithPropertyName('createdAt')!;
});

afterAll(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** Same instant, or both invalid; anything else as it is. */
const comparable = (value: unknown) => (value instanceof Date ? (Number.isNaN(value.getTime()) ? 'invalid date' : value.getTime()) : value);

/** Dates across and beyond what a 4-digit year holds, invalid ones included. */
const anyDate = fc.oneof(
  fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)) }),
  fc.date(),
  fc.constant(new Date(Number.NaN)),
);

describe('SQLite date columns: the same values as TypeORM\'s driver', () => {
  it('writes every date as the driver does', () => {
    const persist = persistenceOf(dataSource, createdAt);
    fc.assert(
      fc.property(anyDate, (date) => {
        expect(persist(date)).toEqual(dataSource.driver.preparePersistentValue(date, createdAt));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every stored text as the driver does, the driver\'s own formats and broken ones included', () => {
    const hydrate = hydrationOf(dataSource, createdAt);
    const stored = anyDate.map((date) => dataSource.driver.preparePersistentValue(date, createdAt) as string);
    const texts = fc.oneof(
      stored,
      stored.map((text) => text.replace(' ', 'T')),
      stored.map((text) => `${text}Z`),
      // Rolled-over and out-of-range fields, non-digits.
      fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 999 })).map(
        ([y, mo, d, h, mi, s, ms]) =>
          `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')} ${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms).padStart(3, '0')}`,
      ),
      fc.string({ minLength: 23, maxLength: 23 }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        expect(comparable(hydrate(text))).toEqual(comparable(dataSource.driver.prepareHydratedValue(text, createdAt)));
      }),
      { numRuns: 5000 },
    );
  });

  it('leaves what it does not recognise to the driver', () => {
    expect(parseStoredUtc('2026-02-29 10:00:00.000')).toBeNull(); // past the 28th: the driver decides
    expect(parseStoredUtc('0999-01-01 10:00:00.000')).toBeNull();
    expect(parseStoredUtc('2026-11-26T10:00:00.000Z')).toBeNull();
    expect(formatStoredUtc(new Date(Number.NaN))).toBeNull();
    expect(formatStoredUtc(new Date(Date.UTC(10000, 0, 1)))).toBeNull();
    expect(parseStoredUtc('2026-11-26 10:00:00.123')).toEqual(new Date('2026-11-26T10:00:00.123Z'));
    expect(formatStoredUtc(new Date('2026-11-26T10:00:00.123Z'))).toBe('2026-11-26 10:00:00.123');
  });
});
