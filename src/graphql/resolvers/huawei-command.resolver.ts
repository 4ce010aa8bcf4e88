import { Arg, Ctx, Field, ID, InputType, Int, Mutation, registerEnumType, Resolver } from 'type-graphql';
import { huaweiCommandSideOff } from '../../ingest/huawei/northbound';
import type { UpgradeTask } from '../../store/entities';
import { createdByOf, type GraphQLContext } from '../context';
import { UpgradeKind } from '../enums';
import { DateTimeScalar } from '../scalars';
import { UpgradeTaskType } from '../types';

/** When the platform runs a task (`policy.executeType`); the values are the wire words. */
export enum HuaweiExecuteType {
  NOW = 'now',
  DEVICE_ONLINE = 'device_online',
  CUSTOM = 'custom',
}
registerEnumType(HuaweiExecuteType, {
  name: 'HuaweiExecuteType',
  description: 'When the Huawei platform runs an upgrade task: NOW, DEVICE_ONLINE (when each device next comes online), CUSTOM (between startTime and endTime).',
});

@InputType('HuaweiUpgradePolicyInput', { description: 'How the Huawei platform runs the task (its `policy`).' })
export class HuaweiUpgradePolicyInput {
  @Field(() => HuaweiExecuteType, { nullable: true, description: 'Default NOW.' }) executeType?: HuaweiExecuteType | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'With CUSTOM.' }) startTime?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'With CUSTOM; after startTime.' }) endTime?: Date | null;
  @Field(() => Int, { nullable: true, description: 'How often the platform retries a failed device, 0 to 5.' }) retryTimes?: number | null;
}

@InputType('CreateHuaweiUpgradeInput')
export class CreateHuaweiUpgradeInput {
  @Field(() => UpgradeKind, { description: 'FIRMWARE (LwM2M devices) or SOFTWARE.' }) kind: UpgradeKind;
  @Field({ description: 'The version package on the platform (its fileId).' }) fileId: string;
  @Field(() => [String], { description: 'Platform device ids, 1 to 1000, distinct.' }) deviceIds: string[];
  @Field(() => HuaweiUpgradePolicyInput, { nullable: true }) policy?: HuaweiUpgradePolicyInput | null;
}

/** Commands on the Huawei platform (northbound API). */
@Resolver()
export class HuaweiCommandResolver {
  @Mutation(() => UpgradeTaskType, {
    description:
      'Starts a Huawei upgrade on the platform (firmwareUpgrade or softwareUpgrade) and stores the task (externalId = operationId, ' +
      'one PENDING sub-task per device); what follows arrives through upgradeProgress. A platform error is UPSTREAM_ERROR with ' +
      'extensions.platformCode and platformMessage, and nothing is stored.',
  })
  createHuaweiUpgrade(@Ctx() ctx: GraphQLContext, @Arg('input', () => CreateHuaweiUpgradeInput) input: CreateHuaweiUpgradeInput): Promise<UpgradeTask> {
    if (!ctx.huaweiUpgrades) throw huaweiCommandSideOff();
    return ctx.huaweiUpgrades.startHuaweiUpgrade({ ...input, createdBy: createdByOf(ctx) });
  }

  @Mutation(() => UpgradeTaskType, {
    nullable: true,
    description: 'Reads a Huawei task back from the platform now and records what pushes missed; null when there is no such task.',
  })
  reconcileHuaweiTask(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<UpgradeTask | null> {
    if (!ctx.huaweiUpgrades) throw huaweiCommandSideOff();
    return ctx.huaweiUpgrades.reconcileHuaweiTask(id);
  }
}
