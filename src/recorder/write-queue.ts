import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { runStatements, type RowStatement } from '../store/bulk-write';
import * as sqliteTransaction from '../store/sqlite-transaction';

/** Scratch space shared by the units of one batch (see {@link batchMemo}). */
export type BatchMemo = Map<string, unknown>;

const BATCH_MEMOS = new WeakMap<EntityManager, BatchMemo>();

/**
 * The scratch space of the batch that `tx` belongs to, for what a unit read or
 * decided that a later unit of the same batch needs again (the recorder's
 * working set of tasks and sub-tasks). It is emptied when a unit rolls back
 * and dropped with the batch. Outside a batch it is a fresh, empty map.
 *
 * A value in it that implements {@link DeferredWrites} holds writes not yet
 * made: the queue flushes it before the batch commits, before any unit that
 * reads the database itself (see {@link SubmitOptions.deferring}) and, when
 * units run one savepoint each, at the end of every unit.
 */
export function batchMemo(tx: EntityManager): BatchMemo {
  return BATCH_MEMOS.get(tx) ?? new Map();
}

/** Writes a batch's units left in its memo (see {@link batchMemo}), made when the queue asks. */
export interface DeferredWrites {
  /**
   * Takes everything deferred so far, as the statements that write it (none
   * is deferred afterwards). The queue runs the statements of every value of
   * the memo together, inside the batch's transaction (one round trip, see
   * `runStatements`), then calls `written` with each statement's generated keys.
   */
  takeWrites(tx: EntityManager): DeferredStatements | null;
}

/** The statements of {@link DeferredWrites.takeWrites}, and what to do once they have run. */
export interface DeferredStatements {
  readonly statements: readonly RowStatement[];
  readonly written?: (keys: readonly number[][]) => void;
}

function isDeferredWrites(value: unknown): value is DeferredWrites {
  return typeof (value as Partial<DeferredWrites> | null)?.takeWrites === 'function';
}

/** Runs the statements of one {@link DeferredStatements}: what a single holder of writes does to flush itself. */
export async function writeDeferred(tx: EntityManager, writes: DeferredStatements | null): Promise<void> {
  if (writes === null || writes.statements.length === 0) return;
  // Not `written?.(await …)`: an optional call skips its arguments, the statements with them.
  const keys = await runStatements(tx, writes.statements);
  writes.written?.(keys);
}

/** Writes out everything the units of a batch deferred so far, in one round trip. */
async function flushDeferred(memo: BatchMemo, tx: EntityManager): Promise<void> {
  const parts: DeferredStatements[] = [];
  for (const value of memo.values()) {
    const writes = isDeferredWrites(value) ? value.takeWrites(tx) : null;
    if (writes !== null && writes.statements.length > 0) parts.push(writes);
  }
  if (parts.length === 0) return;
  const keys = await runStatements(tx, parts.flatMap((part) => part.statements));
  let at = 0;
  for (const part of parts) {
    const own = keys.slice(at, (at += part.statements.length));
    part.written?.(own);
  }
}

/** One unit of work for the writer: runs inside the batch's transaction. */
export type WriteWork<T> = (tx: EntityManager) => Promise<WriteOutcome<T>>;

/** What a unit of work returns: its result, and what to do once it is committed. */
export interface WriteOutcome<T> {
  readonly result: T;
  /** Runs after the commit that made `result` durable (publishing to subscribers). */
  readonly afterCommit?: () => void;
}

/** Options of one unit of work. */
export interface SubmitOptions {
  /**
   * Run the unit once more, in a fresh savepoint, when it fails on a conflict
   * with another writer of the same database (a unique key another instance
   * committed meanwhile, a deadlock, a serialization failure): the second run
   * sees that writer's commit. Only for units that may safely run twice, i.e.
   * whose every effect is a write in `tx` (or an after-commit hook).
   */
  readonly retryOnConflict?: boolean;
  /**
   * The unit reads what earlier units of its batch wrote only through the
   * batch memo, and may leave writes deferred there (the recorder's units,
   * whose rows are written once per batch). Any other unit sees the database
   * as the earlier units left it: the queue writes out what they deferred
   * before it runs, and forgets the memo after it, since it may have changed
   * rows the memo describes.
   */
  readonly deferring?: boolean;
}

interface Pending {
  readonly work: WriteWork<unknown>;
  readonly retryOnConflict: boolean;
  readonly deferring: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * True for errors another writer caused and a second run may not meet:
 * PostgreSQL unique_violation, deadlock_detected and serialization_failure;
 * SQLite's unique constraint failure (a second process on the same file).
 */
export function isWriteConflict(error: unknown): boolean {
  const driverError = (error as { driverError?: unknown } | null)?.driverError ?? error;
  const { code, message } = (driverError ?? {}) as { code?: unknown; message?: unknown };
  if (code === '23505' || code === '40P01' || code === '40001') return true;
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE constraint failed/.test(String(message));
}

/**
 * The transaction-level advisory lock every batch takes first on PostgreSQL:
 * instances sharing a database commit one batch at a time.
 */
const WRITER_LOCK = `hashtext('ota-gateway:writer')`;

/** Options of {@link WriteQueue}. */
export interface WriteQueueOptions {
  /**
   * Most units committed in one transaction.
   * @default 512
   */
  readonly maxBatch?: number;
  /** Called with the size and duration of every committed batch (metrics). */
  readonly onBatch?: (size: number, seconds: number) => void;
  /** Called when an after-commit hook throws: the write stands, the hook's failure is logged. */
  readonly onHookError?: (error: unknown) => void;
  /**
   * Runs inside every batch's transaction just before its commit; when it
   * throws, the batch is rolled back and every unit of it rejected, as when the
   * commit itself fails. For checks the database cannot make itself (the SQLite
   * file still being the one the connection writes to).
   */
  readonly beforeCommit?: () => void | Promise<void>;
}

/**
 * The one writer. Every write of the gateway goes through here, for two reasons:
 *
 * - TypeORM's SQLite drivers share one connection, so two concurrent
 *   `transaction()` calls collide ("cannot start a transaction within a
 *   transaction"). One queue serialises them.
 * - Group commit: whatever arrives while a transaction runs is committed
 *   together in the next one, so a burst costs a few fsyncs, not one each,
 *   and nothing is acknowledged before its commit.
 *
 * A unit that fails rolls back alone and rejects its own promise while the
 * rest of the batch commits (see `runBatch`: the batch is then run again with
 * a SAVEPOINT per unit). If the commit itself fails, every unit of the batch
 * is rejected.
 *
 * On PostgreSQL, several instances may share the database. Each batch first
 * takes a transaction-level advisory lock, so batches of all instances commit
 * one after the other: every read a unit makes (dedupe check, current state of
 * a sub-task) sees everything committed before it, nothing is decided on a
 * row another instance is changing, and progress event ids, drawn inside the
 * lock, grow in commit order across instances (what resumable subscriptions
 * rely on). Writes therefore do not scale with instances; group commit keeps
 * each turn cheap.
 */
export class WriteQueue {
  private readonly pending: Pending[] = [];
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: { limit: number; wake: () => void }[] = [];
  private readonly maxBatch: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: WriteQueueOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 512;
  }

  /** Queues a unit of work; resolves with its result once it is committed. */
  submit<T>(work: WriteWork<T>, options: SubmitOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const retryOnConflict = options.retryOnConflict === true;
      const deferring = options.deferring === true;
      this.pending.push({ work, retryOnConflict, deferring, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        // Let the rest of this tick queue its writes too: they share the commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Number of units waiting for the writer. */
  get depth(): number {
    return this.pending.length;
  }

  /** Resolves once every unit queued so far has been committed or rejected. */
  whenIdle(): Promise<void> {
    if (!this.draining && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once fewer than `limit` units wait for the writer (at once when
   * that is already so). A producer that can slow down (the MQTT client stops
   * reading its socket) waits here, so that a burst from one source does not
   * queue up ahead of everything else: a Huawei push behind 20 000 queued MQTT
   * messages would wait long enough for the platform to give up on it.
   */
  whenRoom(limit: number): Promise<void> {
    // Behind others already waiting: first come, first served.
    if (this.pending.length < limit && this.roomWaiters.length === 0) return Promise.resolve();
    return new Promise((wake) => this.roomWaiters.push({ limit, wake }));
  }

  /**
   * Wakes waiters in order, as many as there is room for: each woken one is
   * counted as queued, since it submits its unit right after. Waking them all
   * at once would let a crowd of producers (many docks' messages waiting in
   * the embedded broker) overshoot the limit together.
   */
  private wakeRoomWaiters(): void {
    let woken = 0;
    while (this.roomWaiters.length > 0 && this.pending.length + woken < this.roomWaiters[0].limit) {
      this.roomWaiters.shift()!.wake();
      woken++;
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.wakeRoomWaiters();
      await this.runBatch(batch);
    }
    this.draining = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Commits a batch. First optimistically, with no savepoints (two statements
   * less per unit) and the deferred writes of all units made together just
   * before the commit; if any unit or that final write fails, the transaction
   * is rolled back whole and the batch runs again in careful mode, each unit
   * in its own SAVEPOINT with its deferred writes made inside it, so the
   * failing unit rolls back alone. Units are functions of their input, so
   * running one twice is safe; only the outcome of the committed run counts.
   */
  private async runBatch(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    let result = await this.attempt(batch, false);
    if (result === 'retry carefully') result = await this.attempt(batch, true);
    if (result === 'retry carefully') return; // unreachable: careful mode never asks for it
    if ('error' in result) {
      // The transaction as a whole failed (storage unavailable, commit refused):
      // nothing of it is durable, so nobody is told it was.
      for (const item of batch) item.reject(result.error);
      return;
    }
    this.options.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
    for (const { item, error } of result.failed) item.reject(error);
    for (const { item, outcome } of result.done) {
      try {
        outcome.afterCommit?.();
      } catch (error) {
        this.options.onHookError?.(error);
      }
      item.resolve(outcome.result);
    }
  }

  private async attempt(
    batch: Pending[],
    careful: boolean,
  ): Promise<
    | 'retry carefully'
    | { error: unknown }
    | { done: { item: Pending; outcome: WriteOutcome<unknown> }[]; failed: { item: Pending; error: unknown }[] }
  > {
    const done: { item: Pending; outcome: WriteOutcome<unknown> }[] = [];
    const failed: { item: Pending; error: unknown }[] = [];
    const runner = this.dataSource.createQueryRunner();
    const memo: BatchMemo = new Map();
    const sqlite = this.dataSource.options.type === 'sqlite';
    try {
      await runner.connect();
      // On SQLite, BEGIN is queued, not awaited: the batch's first reads go out with it (see sqlite-transaction.ts).
      const begun = sqlite ? sqliteTransaction.beginWithoutWaiting(runner) : runner.startTransaction();
      if (!sqlite) await begun;
      BATCH_MEMOS.set(runner.manager, memo);
      if (this.dataSource.options.type === 'postgres') await runner.query(`SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
      const tx = runner.manager;
      for (const item of batch) {
        if (!careful) {
          try {
            if (!item.deferring) await flushDeferred(memo, tx);
            done.push({ item, outcome: await item.work(tx) });
            if (!item.deferring) {
              await flushDeferred(memo, tx);
              memo.clear();
            }
            continue;
          } catch {
            await begun.catch(() => undefined);
            await rollback(runner);
            return 'retry carefully';
          }
        }
        for (let attempt = 1; ; attempt++) {
          await runner.query('SAVEPOINT unit');
          try {
            const outcome = await item.work(tx);
            // Inside the savepoint: a write that fails rolls back this unit alone.
            await flushDeferred(memo, tx);
            if (!item.deferring) memo.clear();
            await runner.query('RELEASE SAVEPOINT unit');
            done.push({ item, outcome });
            break;
          } catch (error) {
            await runner.query('ROLLBACK TO SAVEPOINT unit');
            await runner.query('RELEASE SAVEPOINT unit');
            // What the unit remembered may describe writes just rolled back.
            memo.clear();
            if (attempt === 1 && item.retryOnConflict && isWriteConflict(error)) continue;
            failed.push({ item, error });
            break;
          }
        }
      }
      if (!careful) {
        try {
          await flushDeferred(memo, tx);
        } catch {
          // A write of some unit failed (another instance took a key meanwhile): find out which.
          await begun.catch(() => undefined);
          await rollback(runner);
          return 'retry carefully';
        }
      }
      // Everything above ran inside the transaction only if BEGIN did.
      await begun;
      await this.options.beforeCommit?.();
      await (sqlite ? sqliteTransaction.commit(runner) : runner.commitTransaction());
      return { done, failed };
    } catch (error) {
      if (runner.isTransactionActive) await rollback(runner).catch(() => undefined);
      return { error };
    } finally {
      BATCH_MEMOS.delete(runner.manager);
      await runner.release().catch(() => undefined);
    }
  }
}

/** Rolls back the writer's open transaction, as it was begun (see sqlite-transaction.ts). */
function rollback(runner: QueryRunner): Promise<void> {
  return runner.connection.options.type === 'sqlite' ? sqliteTransaction.rollback(runner) : runner.rollbackTransaction();
}
