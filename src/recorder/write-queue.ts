import type { DataSource, EntityManager } from 'typeorm';

/** One unit of work for the writer: runs inside the batch's transaction. */
export type WriteWork<T> = (tx: EntityManager) => Promise<WriteOutcome<T>>;

/** What a unit of work returns: its result, and what to do once it is committed. */
export interface WriteOutcome<T> {
  readonly result: T;
  /** Runs after the commit that made `result` durable (publishing to subscribers). */
  readonly afterCommit?: () => void;
}

interface Pending {
  readonly work: WriteWork<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

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
 * Each unit runs inside its own SAVEPOINT, so a unit that fails rolls back
 * alone and rejects its own promise while the rest of the batch commits.
 * If the commit itself fails, every unit of the batch is rejected.
 */
export class WriteQueue {
  private readonly pending: Pending[] = [];
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: WriteQueueOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 512;
  }

  /** Queues a unit of work; resolves with its result once it is committed. */
  submit<T>(work: WriteWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
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

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      await this.runBatch(batch);
    }
    this.draining = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    const done: { item: Pending; outcome: WriteOutcome<unknown> }[] = [];
    const failed: { item: Pending; error: unknown }[] = [];
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      for (const item of batch) {
        await runner.query('SAVEPOINT unit');
        try {
          const outcome = await item.work(runner.manager);
          await runner.query('RELEASE SAVEPOINT unit');
          done.push({ item, outcome });
        } catch (error) {
          await runner.query('ROLLBACK TO SAVEPOINT unit');
          await runner.query('RELEASE SAVEPOINT unit');
          failed.push({ item, error });
        }
      }
      await runner.commitTransaction();
    } catch (error) {
      // The transaction as a whole failed (storage unavailable, commit refused):
      // nothing of it is durable, so nobody is told it was.
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release().catch(() => undefined);
      for (const item of batch) item.reject(error);
      return;
    }
    await runner.release().catch(() => undefined);
    this.options.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
    for (const { item, error } of failed) item.reject(error);
    for (const { item, outcome } of done) {
      try {
        outcome.afterCommit?.();
      } catch (error) {
        this.options.onHookError?.(error);
      }
      item.resolve(outcome.result);
    }
  }
}
