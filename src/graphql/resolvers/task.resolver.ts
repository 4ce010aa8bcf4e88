import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { ALL_STATUSES } from '../../domain';
import { type UpgradeSubTask, type UpgradeTask, tallyOfTask } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { connection, pageSize, parseTimeCursor, timeCursor } from '../pagination';
import {
  PageArgs,
  StatusCountType,
  UpgradeSubTaskType,
  UpgradeTaskConnection,
  UpgradeTaskFilterInput,
  UpgradeTaskType,
} from '../types';

/** Task queries and the task's computed fields. */
@Resolver(() => UpgradeTaskType)
export class TaskResolver {
  @Query(() => UpgradeTaskConnection, { description: 'Upgrade tasks, newest first.' })
  async upgradeTasks(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => UpgradeTaskFilterInput, { nullable: true }) filter?: UpgradeTaskFilterInput | null,
  ): Promise<UpgradeTaskConnection> {
    const page = await ctx.store.listTasks(filter ?? {}, pageSize(first), parseTimeCursor(after));
    return connection(page, timeCursor);
  }

  @Query(() => UpgradeTaskType, { nullable: true, description: 'One task by id; null when there is none.' })
  upgradeTask(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<UpgradeTask | null> {
    return ctx.loaders.task.load(id);
  }

  @FieldResolver(() => [UpgradeSubTaskType], { description: 'The devices of the task, oldest first.' })
  subTasks(@Root() task: UpgradeTask, @Ctx() ctx: GraphQLContext): Promise<UpgradeSubTask[]> {
    return ctx.loaders.subTasksOfTask.load(task.id);
  }

  @FieldResolver(() => [StatusCountType], { description: 'Sub-tasks per status (statuses with none are left out).' })
  statusCounts(@Root() task: UpgradeTask): StatusCountType[] {
    // The task's stored tally, kept by the recorder: no sub-task is read.
    const { counts } = tallyOfTask(task);
    // Stable order (the enum's) so clients can render counts without sorting.
    return ALL_STATUSES.filter((status) => counts[status] > 0).map((status) => ({ status, count: counts[status] }));
  }
}
