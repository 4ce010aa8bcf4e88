import type { Logger } from 'pino';
import { In, LessThan } from 'typeorm';
import type { Clock } from '../recorder/clock';
import type { WriteQueue } from '../recorder/write-queue';
import { InboundMessage } from '../store/entities';
import { Periodic } from './periodic';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of {@link LedgerPruner}. */
export interface LedgerPrunerOptions {
  readonly queue: WriteQueue;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `LEDGER_RETENTION_DAYS`: ledger rows received longer ago than this are deleted. */
  readonly retentionDays: number;
  /** @default one hour */
  readonly intervalMs?: number;
  /** Rows deleted per writer unit. @default 1000 */
  readonly batchSize?: number;
  /** Most units per run (the rest waits for the next run). @default 1000 */
  readonly maxBatchesPerRun?: number;
}

/**
 * Keeps the ledger (`inbound_message`: every push and MQTT message as received)
 * to `LEDGER_RETENTION_DAYS`: at start and then hourly it deletes older rows
 * in small batches, each its own writer unit, so that ingestion keeps its turn
 * in the queue between them. Tasks, sub-tasks, the progress history and shadow
 * events are never touched: they do not refer to the ledger.
 *
 * The ledger also holds the dedupe keys. Once a row is pruned, a re-delivery
 * of that very message (a Huawei re-push, a DJI event resent with the same
 * tid) would be recorded again; neither platform retries anywhere near that
 * long (Huawei stacks failed pushes for up to a day, MQTT redelivers a
 * session's unacknowledged messages on reconnection), and the state rules keep
 * an old observation from moving a sub-task that has had newer ones.
 */
export class LedgerPruner {
  private readonly periodic: Periodic;
  private readonly batchSize: number;
  private readonly maxBatches: number;
  private stopping = false;

  constructor(private readonly options: LedgerPrunerOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBatches = options.maxBatchesPerRun ?? 1000;
    this.periodic = new Periodic(() => this.pruneOnce(), options.intervalMs ?? 60 * 60 * 1000, (error) =>
      options.logger.error({ err: error }, 'ledger pruning failed; trying again at the next interval'),
    );
  }

  /** Starts pruning: once at once, then every interval. */
  run(): void {
    this.periodic.start(0);
  }

  /** Stops the timer and waits for the batch in progress. */
  stop(): Promise<void> {
    this.stopping = true;
    return this.periodic.stop();
  }

  /** The oldest receive time kept, as of `now`. */
  cutoff(now: Date = this.options.clock.now()): Date {
    return new Date(now.getTime() - this.options.retentionDays * DAY_MS);
  }

  /**
   * One run, as of the clock's now; stops early when {@link stop} is called.
   * @returns how many ledger rows it deleted.
   */
  async pruneOnce(): Promise<number> {
    const cutoff = this.cutoff();
    let deleted = 0;
    for (let batch = 0; batch < this.maxBatches; batch++) {
      const count = await this.options.queue.submit(async (tx) => {
        const rows = await tx.find(InboundMessage, {
          select: { id: true },
          where: { receivedAt: LessThan(cutoff) },
          take: this.batchSize,
        });
        if (rows.length > 0) await tx.delete(InboundMessage, { id: In(rows.map((r) => r.id)) });
        return { result: rows.length };
      });
      deleted += count;
      if (count < this.batchSize || this.stopping) break;
    }
    if (deleted > 0) {
      this.options.logger.info({ deleted, before: cutoff.toISOString() }, 'ledger rows past LEDGER_RETENTION_DAYS deleted');
    }
    return deleted;
  }
}
