import { Arg, Args, Ctx, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { filterStream } from '../progress-stream';
import { TOPICS } from '../../recorder/event-bus';
import type { ShadowEvent } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { connection, idCursor, pageSize, parseIdCursor } from '../pagination';
import { PageArgs, ShadowEventConnection, ShadowEventType } from '../types';

/** Device-shadow delivery events. */
@Resolver(() => ShadowEventType)
export class ShadowResolver {
  @Query(() => ShadowEventConnection, { description: 'Shadow delivery events, newest first.' })
  async shadowEvents(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('deviceId', () => String, { nullable: true }) deviceId?: string | null,
  ): Promise<ShadowEventConnection> {
    const page = await ctx.store.listShadowEvents(deviceId ?? null, pageSize(first), parseIdCursor(after));
    return connection(page, idCursor);
  }

  @Subscription(() => ShadowEventType, {
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { deviceId?: string | null }, GraphQLContext>) =>
      filterStream(context.listen<ShadowEvent>(TOPICS.SHADOW_STATUS), (e) => !args.deviceId || e.deviceId === args.deviceId),
    description: 'Every recorded shadow event, optionally for one device.',
  })
  shadowStatusChanged(
    @Root() event: ShadowEvent,
    @Arg('deviceId', () => String, { nullable: true }) _deviceId?: string | null,
  ): ShadowEvent {
    return event;
  }
}
