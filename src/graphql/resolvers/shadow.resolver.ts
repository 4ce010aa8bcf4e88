import { Arg, Args, Ctx, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { filterStream } from '../progress-stream';
import { TOPICS, routeKey } from '../../recorder/event-bus';
import type { ShadowEvent } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { idCursor, pageConnection, pageRequest, parseIdCursor } from '../pagination';
import { registerNodeType } from '../relay';
import { PageArgs, ShadowEventConnection, ShadowEventType } from '../types';

registerNodeType('ShadowEvent', async (ctx, ids) => {
  const numeric = ids.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
  const rows = numeric.length > 0 ? await ctx.store.shadowEventsByIds(numeric) : [];
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  return ids.map((id) => byId.get(id) ?? null);
});

/** Device-shadow delivery events. */
@Resolver(() => ShadowEventType)
export class ShadowResolver {
  @Query(() => ShadowEventConnection, { description: 'Shadow delivery events, newest first.' })
  async shadowEvents(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) args: PageArgs,
    @Arg('deviceId', () => String, { nullable: true }) deviceId?: string | null,
  ): Promise<ShadowEventConnection> {
    const request = pageRequest(args, parseIdCursor);
    const page = await ctx.store.listShadowEvents(deviceId ?? null, request.size, request.after, request);
    return pageConnection(page, idCursor, request);
  }

  @Subscription(() => ShadowEventType, {
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { deviceId?: string | null }, GraphQLContext>) =>
      filterStream(context.listen<ShadowEvent>(TOPICS.SHADOW_STATUS, routeKey.device(args.deviceId)), (e) => !args.deviceId || e.deviceId === args.deviceId),
    description: 'Every recorded shadow event, optionally for one device.',
  })
  shadowStatusChanged(
    @Root() event: ShadowEvent,
    @Arg('deviceId', () => String, { nullable: true }) _deviceId?: string | null,
  ): ShadowEvent {
    return event;
  }
}
