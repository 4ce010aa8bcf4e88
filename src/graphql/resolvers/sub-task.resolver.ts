import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { UpgradeSubTask, UpgradeTask } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { codedError, ErrorCode } from '../errors';
import { connection, idCursor, pageConnection, pageRequest, parseIdCursor, parseTimeCursor, timeCursor } from '../pagination';
import { localIdOf, registerNodeType } from '../relay';
import {
  PageArgs,
  ProgressEventConnection,
  UpgradeSubTaskConnection,
  UpgradeSubTaskFilterInput,
  UpgradeSubTaskType,
  UpgradeTaskType,
} from '../types';

registerNodeType('UpgradeSubTask', (ctx, ids) => ctx.loaders.subTask.loadMany(ids).then((rows) => rows.map((r) => (r instanceof Error ? null : r))));
registerNodeType('ProgressEvent', async (ctx, ids) => {
  const numeric = ids.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
  const rows = numeric.length > 0 ? await ctx.store.progressEventsByIds(numeric) : [];
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  return ids.map((id) => byId.get(id) ?? null);
});

/** Sub-task queries and the sub-task's nested fields. */
@Resolver(() => UpgradeSubTaskType)
export class SubTaskResolver {
  @Query(() => UpgradeSubTaskConnection, { description: 'Sub-tasks (one device each), newest first.' })
  async upgradeSubTasks(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) args: PageArgs,
    @Arg('filter', () => UpgradeSubTaskFilterInput, { nullable: true }) filter?: UpgradeSubTaskFilterInput | null,
  ): Promise<UpgradeSubTaskConnection> {
    const request = pageRequest(args, parseTimeCursor);
    const taskId = filter?.taskId != null ? (localIdOf('UpgradeTask', filter.taskId) ?? '') : filter?.taskId;
    const page = await ctx.store.listSubTasks({ ...filter, taskId }, request.size, request.after, request);
    return pageConnection(page, timeCursor, request);
  }

  @FieldResolver(() => UpgradeTaskType)
  async task(@Root() subTask: UpgradeSubTask, @Ctx() ctx: GraphQLContext): Promise<UpgradeTask> {
    const task = await ctx.loaders.task.load(subTask.taskId);
    if (!task) throw codedError(ErrorCode.NOT_FOUND, `task ${subTask.taskId} not found`);
    return task;
  }

  @FieldResolver(() => ProgressEventConnection, { description: 'The history of this device, oldest first; `last: n` gives the latest n.' })
  async events(@Root() subTask: UpgradeSubTask, @Ctx() ctx: GraphQLContext, @Args(() => PageArgs) args: PageArgs): Promise<ProgressEventConnection> {
    const request = pageRequest(args, parseIdCursor);
    const page = await ctx.loaders.eventPage(subTask.id, request);
    return connection({ ...page, totalCount: () => ctx.loaders.eventCount.load(subTask.id) }, idCursor, request);
  }
}
