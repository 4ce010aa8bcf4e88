import { Arg, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { TOPICS, routeKey, type UpgradeProgressMessage } from '../../recorder/event-bus';
import type { GraphQLContext } from '../context';
import { badUserInput } from '../errors';
import { idCursor, parseIdCursor } from '../pagination';
import { progressStream } from '../progress-stream';
import { fromGlobalId, localIdOf } from '../relay';
import { UpgradeProgressType } from '../types';

interface ProgressArgs {
  taskId?: string | null;
  gatewaySn?: string | null;
  deviceId?: string | null;
  after?: string | null;
  fromStart?: boolean | null;
}

/**
 * The resume position `after`: a message's `cursor` (the same cursor an event
 * has in `UpgradeSubTask.events`), or, equivalently, a ProgressEvent's id.
 */
function parseAfter(after: string | null | undefined): number | null {
  if (after == null) return null;
  const global = fromGlobalId(after);
  if (global?.type === 'ProgressEvent' && /^\d{1,15}$/.test(global.localId)) return Number(global.localId);
  return parseIdCursor(after, 'after');
}

/** Live progress, filtered on the server and resumable. */
@Resolver(() => UpgradeProgressType)
export class ProgressResolver {
  @Subscription(() => UpgradeProgressType, {
    description:
      'One message per recorded ProgressEvent, with its task and sub-task as they stand when it is sent (live: right after the event; ' +
      'in a replay: their latest state), so a normalised cache ends right. Filters combine with AND. ' +
      'With `after` (the `cursor` of the last message handled), first replays every matching event recorded after it, in order, ' +
      'then goes live with no gap or duplicate. With `fromStart: true` (needs `taskId`), replays the whole history of the task first: ' +
      'subscribe right after `createFirmwareUpgrade` and miss nothing.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, ProgressArgs, GraphQLContext>) => {
      if (args.fromStart && args.after != null) {
        throw badUserInput('Invalid arguments', [{ field: 'fromStart', message: 'give either fromStart or after' }]);
      }
      if (args.fromStart && !args.taskId) {
        throw badUserInput('Invalid arguments', [{ field: 'fromStart', message: 'needs taskId (the history of one task)' }]);
      }
      const afterId = args.fromStart ? 0 : parseAfter(args.after);
      const taskId = args.taskId != null ? (localIdOf('UpgradeTask', args.taskId) ?? '') : null;
      const filter = { taskId, gatewaySn: args.gatewaySn, deviceId: args.deviceId };
      // Handed only the messages of the one task, device or dock it names (the most selective), then filtered on all.
      const key = routeKey.task(taskId) ?? routeKey.device(args.deviceId) ?? routeKey.gateway(args.gatewaySn);
      return progressStream(context.listen<UpgradeProgressMessage>(TOPICS.UPGRADE_PROGRESS, key), context.store, filter, afterId);
    },
  })
  upgradeProgress(
    @Root() message: UpgradeProgressMessage,
    @Arg('taskId', () => ID, { nullable: true }) _taskId?: string | null,
    @Arg('gatewaySn', () => String, { nullable: true }) _gatewaySn?: string | null,
    @Arg('deviceId', () => String, { nullable: true }) _deviceId?: string | null,
    @Arg('after', () => String, { nullable: true, description: 'The `cursor` of the last message handled (or its event id).' })
    _after?: string | null,
    @Arg('fromStart', () => Boolean, { nullable: true, description: 'Replay the whole history of `taskId` first.' })
    _fromStart?: boolean | null,
  ): UpgradeProgressMessage {
    return message;
  }

  @FieldResolver(() => String)
  cursor(@Root() message: UpgradeProgressMessage): string {
    return idCursor({ id: Number(message.event.id) });
  }
}
