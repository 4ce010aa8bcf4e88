import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { ProgressEvent, UpgradeSubTask, UpgradeTask } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { codedError, ErrorCode } from '../errors';
import { connection, pageSize, parseTimeCursor, timeCursor } from '../pagination';
import {
  PageArgs,
  ProgressEventType,
  UpgradeSubTaskConnection,
  UpgradeSubTaskFilterInput,
  UpgradeSubTaskType,
  UpgradeTaskType,
} from '../types';

/** Sub-task queries and the sub-task's nested fields. */
@Resolver(() => UpgradeSubTaskType)
export class SubTaskResolver {
  @Query(() => UpgradeSubTaskConnection, { description: 'Sub-tasks (one device each), newest first.' })
  async upgradeSubTasks(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => UpgradeSubTaskFilterInput, { nullable: true }) filter?: UpgradeSubTaskFilterInput | null,
  ): Promise<UpgradeSubTaskConnection> {
    const page = await ctx.store.listSubTasks(filter ?? {}, pageSize(first), parseTimeCursor(after));
    return connection(page, timeCursor);
  }

  @FieldResolver(() => UpgradeTaskType)
  async task(@Root() subTask: UpgradeSubTask, @Ctx() ctx: GraphQLContext): Promise<UpgradeTask> {
    const task = await ctx.loaders.task.load(subTask.taskId);
    if (!task) throw codedError(ErrorCode.NOT_FOUND, `task ${subTask.taskId} not found`);
    return task;
  }

  @FieldResolver(() => [ProgressEventType], { description: 'The history of this device, oldest first.' })
  events(@Root() subTask: UpgradeSubTask, @Ctx() ctx: GraphQLContext): Promise<ProgressEvent[]> {
    return ctx.loaders.eventsOfSubTask.load(subTask.id);
  }
}
