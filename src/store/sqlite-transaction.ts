import type { QueryRunner } from 'typeorm';
import { sqliteConnectionOf } from './data-source';

/*
 * The writer's transaction control on SQLite, cheaper than TypeORM's.
 *
 * node-sqlite3 runs each statement on its own thread and needs the main
 * thread twice per statement (once to start running it after preparing it,
 * once for its result). TypeORM sends BEGIN and COMMIT as statements, and
 * the writer waited for BEGIN before sending the batch's first reads: under
 * load, where the main thread is busy with requests, that round trip took
 * 0.6-1 ms of a webhook batch of ~5 ms. Here BEGIN and COMMIT go through
 * `exec` (one hand-off each), and BEGIN is queued rather than awaited: the
 * connection runs statements in the order they are sent (`openDatabase` puts
 * it in serialized mode), so everything the batch sends after it runs inside
 * the transaction, and its first reads go out at once.
 */

/** What TypeORM's runner keeps of its transaction; set here as its own start and commit would. */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

function execOn(runner: QueryRunner, sql: string): Promise<void> {
  const connection = sqliteConnectionOf(runner.connection);
  return new Promise((resolve, reject) => connection.exec(sql, (error) => (error ? reject(error) : resolve())));
}

/**
 * Queues BEGIN on `runner`'s SQLite connection and marks its transaction
 * open at once, so that statements sent right after run inside it. The
 * promise settles once BEGIN has run; the caller awaits it before anything
 * of the batch may be reported durable, and rolls back when it failed. BEGIN
 * fails only on a connection that is closed (every statement after it fails
 * too) or that still holds a transaction (the statements after it ran in that
 * one, which the rollback ends).
 */
export function beginWithoutWaiting(runner: QueryRunner): Promise<void> {
  const state = runner as unknown as TransactionState;
  const begun = execOn(runner, 'BEGIN');
  state.isTransactionActive = true;
  state.transactionDepth = 1;
  // Settled by the caller's await; until then, a failure must not count as unhandled.
  begun.catch(() => undefined);
  return begun;
}

/** Commits the transaction {@link beginWithoutWaiting} opened; when that fails, it is left for {@link rollback}. */
export async function commit(runner: QueryRunner): Promise<void> {
  await execOn(runner, 'COMMIT');
  closed(runner);
}

/**
 * Rolls back the open transaction. Afterwards none is open, even when
 * ROLLBACK fails: SQLite ends a transaction itself on some errors (then
 * ROLLBACK finds none), and one left open by anything else would make the
 * next BEGIN fail, which rolls back again (see the write queue).
 */
export async function rollback(runner: QueryRunner): Promise<void> {
  try {
    await execOn(runner, 'ROLLBACK');
  } finally {
    closed(runner);
  }
}

function closed(runner: QueryRunner): void {
  const state = runner as unknown as TransactionState;
  state.isTransactionActive = false;
  state.transactionDepth = 0;
}
