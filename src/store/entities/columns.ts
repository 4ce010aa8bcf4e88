import type { ValueTransformer } from 'typeorm';

/**
 * JSON kept in a `text` column on SQLite and a `jsonb` column on PostgreSQL.
 * The entity declares `text`; PostgreSQL hands jsonb back already parsed, SQLite
 * as text, so reading accepts both.
 */
export const jsonTransformer: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? value : JSON.stringify(value)),
  from: (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value),
};

/**
 * 64-bit integers (file sizes up to 2^53): PostgreSQL's driver returns `bigint`
 * as a string to avoid precision loss; every value we store fits a JS number.
 */
export const bigintTransformer: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};
