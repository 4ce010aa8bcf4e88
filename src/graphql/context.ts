import type { PubSub } from '@graphql-yoga/subscription';
import type { HuaweiUpgrades } from '../ingest/huawei/northbound';
import type { UpgradeProgressMessage } from '../recorder/event-bus';
import type { Principal } from '../server/auth';
import type { Rollout, ShadowEvent, UpgradeTask } from '../store/entities';
import type { ReadStore } from '../store/read-store';
import type { Device } from '../inventory/device.entity';
import type { DeviceReadStore } from '../inventory/device-reads';
import { createLoaders, type Loaders } from './loaders';
import type { RolloutApi } from '../rollouts/api';

/** The pub/sub topics and their payloads. */
export type GatewayPubSub = PubSub<{
  UPGRADE_PROGRESS: [UpgradeProgressMessage];
  SHADOW_STATUS: [ShadowEvent];
  DEVICE_CHANGED: [Device];
  ROLLOUT_CHANGED: [Rollout];
}>;

/**
 * Listens to a topic: the listener is attached when called, with a bounded
 * buffer per subscriber. With `key` (see `routeKey` in src/server/pubsub), only
 * the messages of that task, dock, device or rollout are handed over; the
 * subscriber still filters on everything it asked for.
 */
export type TopicListener = <T>(topic: string, key?: string | null) => AsyncIterableIterator<T>;

/** A device of a firmware upgrade request, as the mutation receives it. */
export interface FirmwareUpgradeRequest {
  readonly gatewaySn: string;
  /** The name of the API token that asked for it, recorded on the task (`createdBy`). */
  readonly createdBy?: string | null;
  readonly devices: readonly {
    readonly sn: string;
    readonly productVersion: string;
    readonly fileUrl: string;
    readonly md5: string;
    readonly fileSize: number;
    readonly fileName: string;
    readonly firmwareUpgradeType: string;
  }[];
}

/** Starts a DJI firmware upgrade (the DJI command sender implements it). */
export interface FirmwareUpgradeStarter {
  /**
   * Validates, stores the task and publishes `ota_create`.
   * @throws GraphQLError with code BAD_USER_INPUT naming each bad field.
   */
  start(request: FirmwareUpgradeRequest): Promise<UpgradeTask>;
}

/** What resolvers need, built once per gateway. */
export interface GraphQLServices {
  readonly store: ReadStore;
  readonly pubSub: GatewayPubSub;
  readonly listen: TopicListener;
  /** Null until a DJI command sender is wired in. */
  readonly firmwareUpgrades: FirmwareUpgradeStarter | null;
  /** The fleet inventory's reads. */
  readonly devices: DeviceReadStore;
  /** Firmware packages and rollouts (src/rollouts); absent where not wired. */
  readonly rollouts?: RolloutApi | null;
  /** The Huawei command side; absent or null when HUAWEI_* are not set. */
  readonly huaweiUpgrades?: HuaweiUpgrades | null;
}

/** The context of one operation (HTTP request or WebSocket subscription). */
export interface GraphQLContext extends GraphQLServices {
  readonly loaders: Loaders;
  /** Who runs the operation: authenticated before any operation runs, on both transports. */
  readonly principal: Principal;
}

/**
 * The context of one operation: every service, who runs it, and loaders made
 * on first use. A class, not `{ ...services, principal, get loaders() {…} }`:
 * a subscription executes once per event with a fresh context, and on Node 20
 * that literal (fields and an accessor after a spread) costs about 4 µs, this
 * a tenth of one. The getter lives on the prototype, so Apollo's copy of each
 * HTTP operation's context (`Object.create(prototype)` + `Object.assign`)
 * keeps its loaders lazy too, where it used to call the getter while copying.
 */
class OperationContext {
  private loadersMemo: Loaders | undefined = undefined;

  constructor(
    services: GraphQLServices,
    readonly principal: Principal,
  ) {
    Object.assign(this, services);
  }

  get loaders(): Loaders {
    return (this.loadersMemo ??= createLoaders((this as unknown as GraphQLServices).store));
  }
}

/** A fresh context: loaders cache per operation, never across. */
export function createContext(services: GraphQLServices, principal: Principal): GraphQLContext {
  return new OperationContext(services, principal) as OperationContext & GraphQLServices;
}

/**
 * What to record as `createdBy` on what an operation creates (tasks, packages,
 * rollouts): the name of the caller's API token, `anonymous` without tokens.
 */
export function createdByOf(context: Pick<GraphQLContext, 'principal'>): string {
  return context.principal.name;
}
