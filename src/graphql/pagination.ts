import type { Page, TimeKey } from '../store/read-store';
import { badUserInput } from './errors';

/** Largest page a client may ask for. */
export const MAX_PAGE_SIZE = 200;

/** Checks `first`: 1 to {@link MAX_PAGE_SIZE}, else BAD_USER_INPUT. */
export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput('Invalid page size', [{ field: 'first', message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
  }
  return first;
}

/*
 * Cursors are opaque to clients (base64url of a small JSON array) and stable:
 * they name a row's position by its sort key, so rows recorded meanwhile do not
 * shift later pages.
 */

function encode(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function decode(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

const invalidCursor = () => badUserInput('Invalid cursor', [{ field: 'after', message: 'is not a cursor this API gave out' }]);

/** Cursor of a row in a (createdAt, id) newest-first list. */
export function timeCursor(row: { createdAt: Date; id: string }): string {
  return encode(['t', row.createdAt.getTime(), row.id]);
}

/** Decodes a {@link timeCursor}; BAD_USER_INPUT on anything else. */
export function parseTimeCursor(cursor: string | null | undefined): TimeKey | null {
  if (cursor == null) return null;
  const parts = decode(cursor);
  if (!Array.isArray(parts) || parts[0] !== 't' || typeof parts[1] !== 'number' || typeof parts[2] !== 'string') {
    throw invalidCursor();
  }
  return { at: new Date(parts[1]), id: parts[2] };
}

/** Cursor of a row in an id-ordered list. */
export function idCursor(row: { id: number }): string {
  return encode(['i', row.id]);
}

/** Decodes an {@link idCursor}; BAD_USER_INPUT on anything else. */
export function parseIdCursor(cursor: string | null | undefined): number | null {
  if (cursor == null) return null;
  const parts = decode(cursor);
  if (!Array.isArray(parts) || parts[0] !== 'i' || !Number.isSafeInteger(parts[1])) throw invalidCursor();
  return parts[1] as number;
}

/** A Relay connection from a page. */
export function connection<T>(page: Page<T>, cursorOf: (row: T) => string) {
  const edges = page.rows.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    totalCount: page.totalCount,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
    edges,
  };
}
