import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import type { GatewayPubSub } from './context';
import { ProgressResolver } from './resolvers/progress.resolver';
import { ShadowResolver } from './resolvers/shadow.resolver';
import { SubTaskResolver } from './resolvers/sub-task.resolver';
import { TaskResolver } from './resolvers/task.resolver';
import { UpgradeCommandResolver } from './resolvers/upgrade-command.resolver';
import { HuaweiCommandResolver } from './resolvers/huawei-command.resolver';
import { NodeResolver, resolveNodeIdsDirectly } from './relay';
import { DeviceResolver, SubTaskDeviceResolver } from './resolvers/device.resolver';
import { FirmwarePackageResolver } from './resolvers/firmware-package.resolver';
import { RolloutResolver, RolloutTargetResolver } from './resolvers/rollout.resolver';

/** Every resolver of the API. */
export const RESOLVERS = [
  TaskResolver,
  SubTaskResolver,
  ShadowResolver,
  ProgressResolver,
  UpgradeCommandResolver,
  HuaweiCommandResolver,
  DeviceResolver,
  SubTaskDeviceResolver,
  NodeResolver,
  FirmwarePackageResolver,
  RolloutResolver,
  RolloutTargetResolver,
] as const;

/**
 * Builds the executable schema. Input validation happens in the services
 * (zod at the edge), so type-graphql's class-validator pass is off.
 */
export async function buildGatewaySchema(pubSub: GatewayPubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({ resolvers: RESOLVERS, pubSub, validate: false });
  resolveNodeIdsDirectly(schema);
  resolveSubscriptionEventsDirectly(schema);
  return schema;
}

/**
 * Every subscription field's resolver returns the event it is given (see
 * {@link SUBSCRIPTION_FILTER_ARGUMENTS}); this makes each field return it
 * directly instead of through type-graphql's wrapper, which for every event
 * converts and checks each of the field's arguments only to ignore them.
 * The wrapper adds nothing else here: the schema is built with no
 * type-graphql middleware or auth checker (authentication and roles are
 * checked per operation by the server, src/server/graphql.plugin.ts). A field
 * given either would have to keep its wrapper.
 */
function resolveSubscriptionEventsDirectly(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) field.resolve = theEvent;
}

const theEvent = (event: unknown): unknown => event;

/**
 * The arguments of the root subscription fields. Each only selects which
 * events a subscriber gets, or where its stream starts: the fields' resolvers
 * return the event itself. So subscribers of one document with different
 * filters still share one execution per event (see
 * `createSharedSubscribe`'s `streamOnlyArguments`): a thousand dashboards each
 * watching their own task or dock cost one execution of an event, not one per
 * distinct filter. test/schema.test.ts checks that no subscription field has
 * an argument missing here.
 */
export const SUBSCRIPTION_FILTER_ARGUMENTS = ['after', 'fromStart', 'taskId', 'gatewaySn', 'deviceId', 'id'] as const;
