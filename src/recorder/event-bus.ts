import type { ProgressEvent, ShadowEvent, UpgradeSubTask, UpgradeTask } from '../store/entities';

/**
 * What subscribers get for every recorded progress event: the task, the
 * sub-task and the event as they stood right after the commit. Built by the
 * recorder from the rows it just wrote, so no subscriber causes a query.
 */
export interface UpgradeProgressMessage {
  readonly task: UpgradeTask;
  readonly subTask: UpgradeSubTask;
  readonly event: ProgressEvent;
}

/** Topic names on the pub/sub. */
export const TOPICS = {
  UPGRADE_PROGRESS: 'UPGRADE_PROGRESS',
  SHADOW_STATUS: 'SHADOW_STATUS',
  DEVICE_CHANGED: 'DEVICE_CHANGED',
  /** A rollout's status or counts changed (src/rollouts); the payload is the rollout row. */
  ROLLOUT_CHANGED: 'ROLLOUT_CHANGED',
} as const;

/**
 * Where the recorder announces what it committed. The GraphQL subscriptions,
 * and timers that react to state, listen on the other side.
 */
export interface EventBus {
  publishProgress(message: UpgradeProgressMessage): void;
  publishShadow(event: ShadowEvent): void;
}

/**
 * The keys a subscription naming one task, dock, device or rollout listens
 * under, so that it is handed only that one's messages (src/server/pubsub).
 */
export const routeKey = {
  task: (id: string | null | undefined) => (id ? `task:${id}` : null),
  gateway: (sn: string | null | undefined) => (sn ? `gateway:${sn}` : null),
  device: (id: string | null | undefined) => (id ? `device:${id}` : null),
  rollout: (id: string | null | undefined) => (id ? `rollout:${id}` : null),
};
