import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { FirmwareUpgradeRequest, FirmwareUpgradeStarter } from '../../graphql/context';
import { codedError, ErrorCode } from '../../graphql/errors';
import type { Clock } from '../../recorder/clock';
import type { Recorder, ReplyCorrelator } from '../../recorder/recorder';
import type { WriteQueue } from '../../recorder/write-queue';
import type { UpgradeTask } from '../../store/entities';

/** What the DJI command sender needs. */
export interface DjiCommandSenderDependencies {
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly publish: (topic: string, payload: string) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** No reply within this: resend with a new tid. */
  readonly replyTimeoutMs: number;
  /** Sends in all, the first included, before TIMED_OUT. */
  readonly sendAttempts: number;
}

/**
 * Sends `ota_create` for `createFirmwareUpgrade`, correlates `services_reply`
 * with what was sent, and resends when no reply comes. (Placeholder: the DJI
 * issue fills it in.)
 */
export class DjiCommandSender implements FirmwareUpgradeStarter, ReplyCorrelator {
  constructor(private readonly deps: DjiCommandSenderDependencies) {}

  /** Starts the resend timer. */
  run(): void {}

  /** Stops the resend timer. */
  async stop(): Promise<void> {}

  async start(request: FirmwareUpgradeRequest): Promise<UpgradeTask> {
    void request;
    throw codedError(ErrorCode.NOT_IMPLEMENTED, 'DJI firmware upgrades are not available yet');
  }

  async acceptReply(_tx: EntityManager, _task: UpgradeTask, _tid: string, _receivedAt: Date): Promise<boolean> {
    void this.deps;
    return false;
  }
}
