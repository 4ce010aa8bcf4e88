import DataLoader from 'dataloader';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { TOPICS, routeKey } from '../../recorder/event-bus';
import { progressOf, RolloutStatus, RolloutTargetStatus, type RolloutCommand, type RolloutCounts } from '../../rollouts/domain';
import { countsOf } from '../../rollouts/rollout-rows';
import type { FirmwarePackage, Rollout, RolloutTarget, UpgradeSubTask } from '../../store/entities';
import { createdByOf, type GraphQLContext } from '../context';
import { codedError, ErrorCode } from '../errors';
import { forwardRequest, idCursor, pageConnection, parseIdCursor, parseTimeCursor, timeCursor } from '../pagination';
import { filterStream } from '../progress-stream';
import {
  CreateRolloutInput,
  FirmwarePackageType,
  RolloutConnection,
  RolloutCountsType,
  RolloutTargetConnection,
  RolloutTargetType,
  RolloutType,
  UpgradeSubTaskType,
} from '../rollouts/rollout-types';
import { inIdOrder, localIdOf, registerNodeType } from '../relay';
import { deviceOfArgument } from '../device-ids';
import { PageArgs } from '../types';
import { DeviceType } from '../device-types';
import type { Device } from '../../inventory/device.entity';

function rolloutsOf(ctx: GraphQLContext) {
  if (!ctx.rollouts) throw codedError(ErrorCode.NOT_IMPLEMENTED, 'Rollouts are not available');
  return ctx.rollouts.rollouts;
}

registerNodeType('Rollout', async (ctx, ids) => (ctx.rollouts ? inIdOrder(ids, await ctx.rollouts.rollouts.byIds(ids)) : ids.map(() => null)));
registerNodeType('RolloutTarget', async (ctx, ids) => {
  const numeric = ids.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
  return ctx.rollouts ? inIdOrder(ids, await ctx.rollouts.rollouts.targetsByIds(numeric)) : ids.map(() => null);
});

/**
 * The local id of a rollout an argument names: its `id`, or the row id older
 * clients kept; an id of another type names none (the empty id matches none).
 */
function rolloutId(id: string): string {
  return localIdOf('Rollout', id) ?? '';
}

/** Package ids as the rollouts take them: an `id` of another type stays as given, and is reported as unknown. */
function packageIds(ids: readonly string[]): string[] {
  return ids.map((id) => localIdOf('FirmwarePackage', id) ?? id);
}

/** Per-operation batch loaders of the rollout fields (no N+1 over a page). */
const LOADERS = new WeakMap<GraphQLContext, ReturnType<typeof createRolloutLoaders>>();

function createRolloutLoaders(ctx: GraphQLContext) {
  return {
    packages: new DataLoader<string, FirmwarePackage[]>(async (ids) => {
      const rows = await rolloutsOf(ctx).packagesOf(ids);
      return ids.map((id) => rows.filter((r) => r.rolloutId === id).map((r) => r.pkg));
    }),
    device: new DataLoader<{ source: string; deviceId: string }, Device | null, string>(
      async (keys) => {
        const rows = await ctx.devices.byKeys(keys as never);
        const byKey = new Map(rows.map((d) => [`${d.source}\u0000${d.deviceId}`, d]));
        return keys.map((k) => byKey.get(`${k.source}\u0000${k.deviceId}`) ?? null);
      },
      { cacheKeyFn: (k) => `${k.source}\u0000${k.deviceId}` },
    ),
    subTask: new DataLoader<string, UpgradeSubTask | null>(async (ids) => {
      const rows = await ctx.store.subTasksByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

function loaders(ctx: GraphQLContext) {
  let found = LOADERS.get(ctx);
  if (!found) LOADERS.set(ctx, (found = createRolloutLoaders(ctx)));
  return found;
}

/** Rollouts: thin over src/rollouts (validation, rules and storage live there). */
@Resolver(() => RolloutType)
export class RolloutResolver {
  @Query(() => RolloutConnection, { description: 'Rollouts, newest first.' })
  async rollouts(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('status', () => RolloutStatus, { nullable: true }) status?: RolloutStatus | null,
  ): Promise<RolloutConnection> {
    const request = forwardRequest(first, after, parseTimeCursor);
    const page = await rolloutsOf(ctx).list(status ?? null, request.size, request.after);
    return pageConnection(page, timeCursor, request) as unknown as RolloutConnection;
  }

  @Query(() => RolloutType, { nullable: true })
  rollout(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout | null> {
    return rolloutsOf(ctx).byId(rolloutId(id));
  }

  @Mutation(() => RolloutType, {
    description:
      'Creates a rollout (SCHEDULED) with its targets fixed now: each device gets the package of its model; a device with no ' +
      'package for its model, or already on its version, is SKIPPED. It starts with startRollout, or by itself at startAt.',
  })
  createRollout(@Ctx() ctx: GraphQLContext, @Arg('input', () => CreateRolloutInput) input: CreateRolloutInput): Promise<Rollout> {
    const deviceIds = input.target?.deviceIds?.map((id) => deviceOfArgument(id).deviceId) ?? null;
    return rolloutsOf(ctx).create(
      { ...input, packageIds: packageIds(input.packageIds), target: { deviceIds, filter: input.target?.filter ? { ...input.target.filter } : null } },
      createdByOf(ctx),
    );
  }

  @Mutation(() => RolloutType, { description: 'SCHEDULED → RUNNING.' })
  startRollout(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout> {
    return command(ctx, id, 'start');
  }

  @Mutation(() => RolloutType, { description: 'RUNNING → PAUSED (MANUAL): nothing new is sent; what is in flight finishes and is counted.' })
  pauseRollout(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout> {
    return command(ctx, id, 'pause');
  }

  @Mutation(() => RolloutType, { description: 'PAUSED → RUNNING (after a manual pause or the failure brake).' })
  resumeRollout(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout> {
    return command(ctx, id, 'resume');
  }

  @Mutation(() => RolloutType, {
    description: 'Sends nothing new: targets in flight finish and are counted as they end (no platform can stop an upgrade under way); the rest become CANCELED.',
  })
  cancelRollout(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout> {
    return command(ctx, id, 'cancel');
  }

  @Mutation(() => RolloutType, { description: 'Puts FAILED targets back in the queue with their attempts reset; a COMPLETED rollout runs again.' })
  retryRolloutFailures(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Rollout> {
    return command(ctx, id, 'retryFailures');
  }

  @Subscription(() => RolloutType, {
    description: 'Every change of status or counts of a rollout (of every rollout without id).',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { id?: string | null }, GraphQLContext>) => {
      const id = args.id ? rolloutId(args.id) : null;
      return filterStream(context.listen<Rollout>(TOPICS.ROLLOUT_CHANGED, routeKey.rollout(id)), (r) => id === null || r.id === id);
    },
  })
  rolloutChanged(@Root() rollout: Rollout, @Arg('id', () => ID, { nullable: true }) _id?: string | null): Rollout {
    return rollout;
  }

  @FieldResolver(() => RolloutCountsType)
  counts(@Root() rollout: Rollout): RolloutCounts {
    return countsOf(rollout);
  }

  @FieldResolver(() => Int)
  progress(@Root() rollout: Rollout): number {
    return progressOf(countsOf(rollout));
  }

  @FieldResolver(() => [FirmwarePackageType])
  packages(@Root() rollout: Rollout, @Ctx() ctx: GraphQLContext): Promise<FirmwarePackage[]> {
    return loaders(ctx).packages.load(rollout.id);
  }

  @FieldResolver(() => RolloutTargetConnection, { description: 'Targets in the order they were planned (dock by dock).' })
  async targets(
    @Root() rollout: Rollout,
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('status', () => RolloutTargetStatus, { nullable: true }) status?: RolloutTargetStatus | null,
  ): Promise<RolloutTargetConnection> {
    const request = forwardRequest(first, after, parseIdCursor);
    const page = await rolloutsOf(ctx).targets(rollout, status ?? null, request.size, request.after);
    return pageConnection(page, idCursor, request) as unknown as RolloutTargetConnection;
  }
}

function command(ctx: GraphQLContext, id: string, name: RolloutCommand): Promise<Rollout> {
  const localId = localIdOf('Rollout', id);
  if (localId === null) return Promise.reject(codedError(ErrorCode.NOT_FOUND, `rollout ${id} not found`));
  return rolloutsOf(ctx).command(localId, name);
}

/** A rollout target's nested fields. */
@Resolver(() => RolloutTargetType)
export class RolloutTargetResolver {
  @FieldResolver(() => DeviceType, { description: 'The device in the inventory.' })
  async device(@Root() target: RolloutTarget, @Ctx() ctx: GraphQLContext): Promise<Device> {
    const device = await loaders(ctx).device.load({ source: target.source, deviceId: target.deviceId });
    if (!device) throw codedError(ErrorCode.NOT_FOUND, `device ${target.deviceId} not found in the inventory`);
    return device;
  }

  @FieldResolver(() => UpgradeSubTaskType, { nullable: true, description: 'The sub-task of its latest attempt.' })
  async subTask(@Root() target: RolloutTarget, @Ctx() ctx: GraphQLContext): Promise<UpgradeSubTask | null> {
    return target.subTaskId ? loaders(ctx).subTask.load(target.subTaskId) : null;
  }
}
