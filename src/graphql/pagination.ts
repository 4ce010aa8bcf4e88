import type { Page, TimeKey } from '../store/read-store';
import { badUserInput } from './errors';

/** Largest page a client may ask for. */
export const MAX_PAGE_SIZE = 200;

/** Page size when a client gives neither `first` nor `last`. */
export const DEFAULT_PAGE_SIZE = 20;

/** Checks `first` (or `last`): 1 to {@link MAX_PAGE_SIZE}, else BAD_USER_INPUT. */
export function pageSize(first: number, field = 'first'): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput('Invalid page size', [{ field, message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
  }
  return first;
}

/** The paging arguments of a connection field, as GraphQL passes them. */
export interface PageArgsInput {
  readonly first?: number | null;
  readonly after?: string | null;
  readonly last?: number | null;
  readonly before?: string | null;
}

/** A checked page request: forward (`first`/`after`) or backward (`last`/`before`). */
export interface PageRequest<K> {
  readonly size: number;
  readonly after: K | null;
  readonly before: K | null;
  readonly backward: boolean;
}

/**
 * Checks paging arguments (Relay Cursor Connections): `first` with `after`
 * reads forward, `last` with `before` backward; mixing directions is refused
 * rather than guessed. Neither size: the first {@link DEFAULT_PAGE_SIZE}.
 */
export function pageRequest<K>(args: PageArgsInput, parse: (cursor: string | null | undefined, field: string) => K | null): PageRequest<K> {
  const backward = args.last != null || args.before != null;
  if (backward && (args.first != null || args.after != null)) {
    throw badUserInput('Invalid paging', [{ field: 'last', message: 'page forward with first/after or backward with last/before, not both' }]);
  }
  return backward
    ? { size: pageSize(args.last ?? DEFAULT_PAGE_SIZE, 'last'), after: null, before: parse(args.before, 'before'), backward }
    : { size: pageSize(args.first ?? DEFAULT_PAGE_SIZE), after: parse(args.after, 'after'), before: null, backward };
}

/** A forward-only page request, for lists that page with `first`/`after` alone. */
export function forwardRequest<K>(
  first: number | null | undefined,
  after: string | null | undefined,
  parse: (cursor: string | null | undefined, field: string) => K | null,
): PageRequest<K> {
  return { size: pageSize(first ?? DEFAULT_PAGE_SIZE), after: parse(after, 'after'), before: null, backward: false };
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

const invalidCursor = (field = 'after') => badUserInput('Invalid cursor', [{ field, message: 'is not a cursor this API gave out' }]);

/** Cursor of a row in a (createdAt, id) newest-first list. */
export function timeCursor(row: { createdAt: Date; id: string }): string {
  return encode(['t', row.createdAt.getTime(), row.id]);
}

/** Decodes a {@link timeCursor}; BAD_USER_INPUT on anything else. */
export function parseTimeCursor(cursor: string | null | undefined, field = 'after'): TimeKey | null {
  if (cursor == null) return null;
  const parts = decode(cursor);
  if (!Array.isArray(parts) || parts[0] !== 't' || typeof parts[1] !== 'number' || typeof parts[2] !== 'string') {
    throw invalidCursor(field);
  }
  return { at: new Date(parts[1]), id: parts[2] };
}

/** Cursor of a row in an id-ordered list. */
export function idCursor(row: { id: number }): string {
  return encode(['i', row.id]);
}

/** Decodes an {@link idCursor}; BAD_USER_INPUT on anything else. */
export function parseIdCursor(cursor: string | null | undefined, field = 'after'): number | null {
  if (cursor == null) return null;
  const parts = decode(cursor);
  if (!Array.isArray(parts) || parts[0] !== 'i' || !Number.isSafeInteger(parts[1])) throw invalidCursor(field);
  return parts[1] as number;
}

/** Cursor of a sub-task among its task's devices (ordered by device id). */
export function deviceCursor(row: { deviceId: string }): string {
  return encode(['d', row.deviceId]);
}

/** Decodes a {@link deviceCursor}; BAD_USER_INPUT on anything else. */
export function parseDeviceCursor(cursor: string | null | undefined, field = 'after'): string | null {
  if (cursor == null) return null;
  const parts = decode(cursor);
  if (!Array.isArray(parts) || parts[0] !== 'd' || typeof parts[1] !== 'string') throw invalidCursor(field);
  return parts[1];
}

/**
 * A Relay connection from a page read as `request` asked. Per the spec, the
 * flag for the direction not read is cheap rather than exact: a page read
 * after a cursor has a previous page, one read before a cursor a next one.
 */
export function connection<T>(
  page: { rows: T[]; hasMore: boolean; totalCount: number | (() => Promise<number>) },
  cursorOf: (row: T) => string,
  request: PageRequest<unknown>,
) {
  const edges = page.rows.map((node) => ({ cursor: cursorOf(node), node }));
  const { totalCount } = page;
  return {
    // A function is counted only when the field is selected (a getter: the field resolver reads the property).
    get totalCount(): number {
      return (typeof totalCount === 'function' ? totalCount() : totalCount) as number;
    },
    pageInfo: {
      hasNextPage: request.backward ? request.before !== null : page.hasMore,
      hasPreviousPage: request.backward ? page.hasMore : request.after !== null,
      startCursor: edges.length > 0 ? edges[0].cursor : null,
      endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null,
    },
    edges,
    nodes: page.rows,
  };
}

/** {@link connection} from a top-level list's page. */
export function pageConnection<T>(page: Page<T>, cursorOf: (row: T) => string, request: PageRequest<unknown>) {
  return connection({ rows: page.rows, hasMore: page.hasNextPage, totalCount: page.totalCount }, cursorOf, request);
}
