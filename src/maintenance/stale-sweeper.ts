import type { Logger } from 'pino';
import { UpgradeSource, staleReason } from '../domain';
import type { Clock } from '../recorder/clock';
import type { Recorder } from '../recorder/recorder';
import { Periodic } from './periodic';

/** Options of {@link StaleSweeper}. */
export interface StaleSweeperOptions {
  readonly recorder: Recorder;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `STALE_AFTER_MS`: an open sub-task with no news for longer than this is timed out. */
  readonly staleAfterMs: number;
  /** @default {@link defaultSweepInterval}(staleAfterMs) */
  readonly intervalMs?: number;
  /** Sub-tasks closed per writer unit. @default 100 */
  readonly batchSize?: number;
  /** Most units per sweep (the rest waits for the next sweep). @default 100 */
  readonly maxBatchesPerSweep?: number;
  /**
   * Whether the gateway can hear a source right now (DJI: the MQTT client is
   * connected). A source it cannot hear is not swept, nor at the first sweep
   * after it came back, so that what the broker kept for the gateway arrives
   * first. Sources not named are always heard (Huawei pushes to us).
   */
  readonly listening?: Partial<Record<UpgradeSource, () => boolean>>;
}

/**
 * How often the sweeper looks: a quarter of `STALE_AFTER_MS`, at most every
 * 30 s and at least every 100 ms. A sub-task is therefore closed between
 * `STALE_AFTER_MS` and `STALE_AFTER_MS` plus one interval after its last news.
 */
export function defaultSweepInterval(staleAfterMs: number): number {
  return Math.max(100, Math.min(Math.floor(staleAfterMs / 4), 30_000));
}

/**
 * Times out upgrades nobody hears of any more (DJI's demo lets a Redis key
 * expire after 20 minutes and the status silently vanishes; here it is an
 * explicit, recorded decision). On every sweep, each open sub-task (PENDING
 * included) whose last news is older than `STALE_AFTER_MS` gets a TIMED_OUT
 * observation of the gateway's own through the recorder: it is in the history,
 * its task's status is derived again, subscribers hear of it after the commit,
 * and a newer real observation still reopens it (`closedByStaleSweep`).
 * Everything is decided on the gateway's clock (the injected one).
 *
 * Silence only counts while the gateway can hear: a source whose channel is
 * down (DJI while the MQTT client is disconnected) is not swept, nor at the
 * first sweep after it came back; a task whose command still waits to be sent
 * or answered is left to the command sender.
 */
export class StaleSweeper {
  private readonly periodic: Periodic;
  readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly maxBatches: number;
  /** Sources that were not heard at the previous sweep. */
  private deafBefore = new Set<UpgradeSource>();

  constructor(private readonly options: StaleSweeperOptions) {
    this.intervalMs = options.intervalMs ?? defaultSweepInterval(options.staleAfterMs);
    this.batchSize = options.batchSize ?? 100;
    this.maxBatches = options.maxBatchesPerSweep ?? 100;
    this.periodic = new Periodic(() => this.sweepOnce(), this.intervalMs, (error) =>
      options.logger.error({ err: error }, 'stale sweep failed; trying again at the next interval'),
    );
  }

  /**
   * Starts sweeping, first after one interval (what the broker and the
   * platforms kept for the gateway while it was down arrives first), then
   * every interval.
   */
  run(): void {
    this.periodic.start(this.intervalMs);
  }

  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /**
   * One sweep, as of the clock's now.
   * @returns how many sub-tasks it timed out.
   */
  async sweepOnce(): Promise<number> {
    const { recorder, clock, staleAfterMs, logger } = this.options;
    const now = clock.now();
    const noNewsSince = new Date(now.getTime() - staleAfterMs);
    const deaf = new Set(
      Object.values(UpgradeSource).filter((source) => {
        const heard = this.options.listening?.[source];
        return heard !== undefined && !heard();
      }),
    );
    const exceptSources = [...new Set([...deaf, ...this.deafBefore])];
    this.deafBefore = deaf;
    let closed = 0;
    for (let batch = 0; batch < this.maxBatches; batch++) {
      const messages = await recorder.closeStaleSubTasks({
        noNewsSince,
        limit: this.batchSize,
        describe: (subTask) => staleReason(subTask.lastObservedAt, staleAfterMs),
        exceptSources,
        at: now,
      });
      closed += messages.length;
      for (const { task, subTask } of messages) {
        logger.warn(
          { taskId: task.id, source: task.source, externalId: task.externalId, deviceId: subTask.deviceId },
          'upgrade timed out: no news within STALE_AFTER_MS',
        );
      }
      if (messages.length < this.batchSize) break;
    }
    return closed;
  }
}
