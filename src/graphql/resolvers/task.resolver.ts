import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { ALL_STATUSES } from '../../domain';
import { type UpgradeTask, tallyOfTask } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { connection, deviceCursor, pageConnection, pageRequest, parseDeviceCursor, parseTimeCursor, timeCursor } from '../pagination';
import { localIdOf, registerNodeType } from '../relay';
import {
  PageArgs,
  StatusCountType,
  UpgradeSubTaskConnection,
  UpgradeTaskConnection,
  UpgradeTaskFilterInput,
  UpgradeTaskType,
} from '../types';

registerNodeType('UpgradeTask', (ctx, ids) => ctx.loaders.task.loadMany(ids).then((rows) => rows.map((r) => (r instanceof Error ? null : r))));

/** Task queries and the task's computed fields. */
@Resolver(() => UpgradeTaskType)
export class TaskResolver {
  @Query(() => UpgradeTaskConnection, { description: 'Upgrade tasks, newest first.' })
  async upgradeTasks(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) args: PageArgs,
    @Arg('filter', () => UpgradeTaskFilterInput, { nullable: true }) filter?: UpgradeTaskFilterInput | null,
  ): Promise<UpgradeTaskConnection> {
    const request = pageRequest(args, parseTimeCursor);
    const page = await ctx.store.listTasks(filter ?? {}, request.size, request.after, request);
    return pageConnection(page, timeCursor, request);
  }

  @Query(() => UpgradeTaskType, { nullable: true, description: 'One task by id; null when there is none.' })
  async upgradeTask(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<UpgradeTask | null> {
    const localId = localIdOf('UpgradeTask', id);
    return localId === null ? null : ctx.loaders.task.load(localId);
  }

  @FieldResolver(() => UpgradeSubTaskConnection, { description: 'The devices of the task, by device id.' })
  async subTasks(@Root() task: UpgradeTask, @Ctx() ctx: GraphQLContext, @Args(() => PageArgs) args: PageArgs): Promise<UpgradeSubTaskConnection> {
    const request = pageRequest(args, parseDeviceCursor);
    const page = await ctx.loaders.subTaskPage(task.id, request);
    return connection({ ...page, totalCount: () => ctx.loaders.subTaskCount.load(task.id) }, deviceCursor, request);
  }

  @FieldResolver(() => [StatusCountType], { description: 'Sub-tasks per status (statuses with none are left out).' })
  statusCounts(@Root() task: UpgradeTask): StatusCountType[] {
    // The task's stored tally, kept by the recorder: no sub-task is read.
    const { counts } = tallyOfTask(task);
    // Stable order (the enum's) so clients can render counts without sorting.
    return ALL_STATUSES.filter((status) => counts[status] > 0).map((status) => ({ status, count: counts[status] }));
  }
}
