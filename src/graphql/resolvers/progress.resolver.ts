import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { TOPICS, type UpgradeProgressMessage } from '../../recorder/event-bus';
import type { GraphQLContext } from '../context';
import { badUserInput } from '../errors';
import { progressStream } from '../progress-stream';
import { UpgradeProgressType } from '../types';

interface ProgressArgs {
  taskId?: string | null;
  gatewaySn?: string | null;
  deviceId?: string | null;
  after?: string | null;
}

function parseAfter(after: string | null | undefined): number | null {
  if (after == null) return null;
  if (!/^\d{1,15}$/.test(after)) throw badUserInput('Invalid after', [{ field: 'after', message: 'must be a ProgressEvent id' }]);
  return Number(after);
}

/** Live progress, filtered on the server and resumable. */
@Resolver(() => UpgradeProgressType)
export class ProgressResolver {
  @Subscription(() => UpgradeProgressType, {
    description:
      'One message per recorded ProgressEvent. Filters combine with AND. With `after` (a ProgressEvent id), ' +
      'first replays every matching event recorded after it, in order, then goes live with no gap or duplicate.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, ProgressArgs, GraphQLContext>) => {
      const afterId = parseAfter(args.after);
      return progressStream(context.listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS), context.store, args, afterId);
    },
  })
  upgradeProgress(
    @Root() message: UpgradeProgressMessage,
    @Arg('taskId', () => ID, { nullable: true }) _taskId?: string | null,
    @Arg('gatewaySn', () => String, { nullable: true }) _gatewaySn?: string | null,
    @Arg('deviceId', () => String, { nullable: true }) _deviceId?: string | null,
    @Arg('after', () => String, { nullable: true }) _after?: string | null,
  ): UpgradeProgressMessage {
    return message;
  }
}
