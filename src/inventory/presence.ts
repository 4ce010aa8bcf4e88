import type { Logger } from 'pino';
import { UpgradeSource } from '../domain/status';
import type { Clock } from '../recorder/clock';
import type { WriteQueue } from '../recorder/write-queue';
import { Device } from './device.entity';
import type { Inventory } from './inventory';

/** Pause before a presence write that failed (storage away) is tried again. */
const RETRY_MS = 1000;

/**
 * Docks' presence from the embedded broker: a dock is online while its MQTT
 * connection is up. The broker reports connections by the dock's sn (the
 * identity it authenticated); this keeps, per sn, the connections open (a
 * dock reconnecting may briefly hold two) and writes the dock's state through
 * the write queue whenever it flips.
 *
 * Writes are state, not events: each one stores what the connection table
 * says at that moment, so one that fails is simply written again later, and
 * writing it twice changes nothing.
 */
export class DockPresence {
  private readonly connections = new Map<string, Set<object>>();
  /** Client ids whose state waits to be written (a write is queued or retrying). */
  private readonly dirty = new Set<string>();
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      readonly queue: WriteQueue;
      readonly inventory: Inventory;
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  /** The broker's hook (see EmbeddedBrokerHooks.onClientPresence). */
  readonly onClientPresence = (clientId: string, online: boolean, client: object): void => {
    if (this.stopped || typeof clientId !== 'string' || clientId === '') return;
    let open = this.connections.get(clientId);
    const before = open !== undefined && open.size > 0;
    if (online) {
      if (!open) this.connections.set(clientId, (open = new Set()));
      open.add(client);
    } else if (open) {
      open.delete(client);
      if (open.size === 0) this.connections.delete(clientId);
    }
    const after = this.isConnected(clientId);
    if (before !== after) this.write(clientId);
  };

  /** True while the client id has a connection open. */
  isConnected(clientId: string): boolean {
    return (this.connections.get(clientId)?.size ?? 0) > 0;
  }

  private write(clientId: string): void {
    if (this.dirty.has(clientId)) return; // the queued write reads the state when it runs
    this.dirty.add(clientId);
    this.deps.queue
      .submit(async (tx) => {
        this.dirty.delete(clientId);
        const devices = await this.deps.inventory.presence(tx, clientId, this.isConnected(clientId), this.deps.clock.now());
        return { result: devices, afterCommit: () => this.deps.inventory.publish(devices) };
      })
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error, clientId }, 'dock presence not stored; trying again');
        this.dirty.add(clientId);
        this.retry ??= setTimeout(() => this.retryAll(), RETRY_MS);
      });
  }

  private retryAll(): void {
    this.retry = undefined;
    if (this.stopped) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) this.write(id);
  }

  /** Stops writing (shutdown). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }
}

/**
 * What a start of the gateway with the embedded broker means for presence:
 * the broker starts empty, so no dock is connected and no aircraft reachable.
 * DJI devices stored as online, or never known, become offline; docks come
 * back online as they reconnect. One indexed UPDATE through the write queue,
 * before the broker accepts connections.
 */
export async function markDjiOfflineAtStart(queue: WriteQueue, at: Date): Promise<number> {
  return queue.submit(async (tx) => {
    const result = await tx
      .createQueryBuilder()
      .update(Device)
      .set({ online: false, updatedAt: at })
      .where('source = :source', { source: UpgradeSource.DJI })
      .andWhere('(online IS NULL OR online = :online)', { online: true })
      .execute();
    return { result: result.affected ?? 0 };
  });
}
