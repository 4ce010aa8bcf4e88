import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { DjiCommandSender } from '../ingest/dji/command-sender';
import type { Clock } from '../recorder/clock';
import { TOPICS, type UpgradeProgressMessage } from '../recorder/event-bus';
import type { Recorder } from '../recorder/recorder';
import type { WriteQueue } from '../recorder/write-queue';
import type { PubSubHandle } from '../server/pubsub';
import type { Rollout } from '../store/entities';
import type { RolloutApi } from './api';
import { RolloutEngine } from './engine';
import type { HuaweiWaveSender } from './huawei-waves';
import { inventoryFleet } from './inventory-fleet';
import { FirmwarePackages } from './packages';
import { RolloutService } from './rollouts';

/** What the composition root wires rollouts from. */
export interface RolloutWiring {
  readonly config: Pick<Config, 'rolloutTickMs' | 'rolloutRetryDelayMs' | 'rolloutHuaweiWaveGraceMs'>;
  readonly queue: WriteQueue;
  readonly readDataSource: DataSource;
  readonly recorder: Recorder;
  readonly commands: DjiCommandSender;
  /** The Huawei command side's upgrade starter; null when HUAWEI_* are not set. */
  readonly huawei: HuaweiWaveSender | null;
  readonly pubSub: PubSubHandle;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Starts the rollout engine and builds the API's services; `stop` stops the engine. */
export function startRollouts(w: RolloutWiring): { api: RolloutApi; engine: RolloutEngine; stop: () => Promise<void> } {
  const publishChanged = (rollout: Rollout) => w.pubSub.pubSub.publish(TOPICS.ROLLOUT_CHANGED, rollout);
  const engine = new RolloutEngine({
    queue: w.queue,
    recorder: w.recorder,
    dispatcher: w.commands,
    publishChanged,
    progress: w.pubSub.listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS),
    clock: w.clock,
    logger: w.logger.child({ component: 'rollouts' }),
    tickMs: w.config.rolloutTickMs,
    retryDelayMs: w.config.rolloutRetryDelayMs,
    huawei: w.huawei ?? undefined,
    huaweiWaveGraceMs: w.config.rolloutHuaweiWaveGraceMs,
  });
  engine.run();
  const rollouts = new RolloutService({
    queue: w.queue,
    read: w.readDataSource,
    fleet: inventoryFleet,
    clock: w.clock,
    publishChanged,
    wake: () => engine.wake(),
    huaweiEnabled: w.huawei !== null,
  });
  return { api: { packages: new FirmwarePackages(w.queue, w.readDataSource, w.clock), rollouts }, engine, stop: () => engine.stop() };
}
