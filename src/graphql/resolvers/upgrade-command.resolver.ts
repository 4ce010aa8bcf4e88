import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { UpgradeTask } from '../../store/entities';
import { createdByOf, type GraphQLContext } from '../context';
import { codedError, ErrorCode } from '../errors';
import { CreateFirmwareUpgradeInput, UpgradeTaskType } from '../types';

/** Commands that start upgrades. */
@Resolver()
export class UpgradeCommandResolver {
  @Mutation(() => UpgradeTaskType, {
    description:
      'Starts a DJI firmware upgrade: stores the task (PENDING) and publishes ota_create to the dock. ' +
      'What follows arrives through upgradeProgress.',
  })
  createFirmwareUpgrade(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => CreateFirmwareUpgradeInput) input: CreateFirmwareUpgradeInput,
  ): Promise<UpgradeTask> {
    if (!ctx.firmwareUpgrades) throw codedError(ErrorCode.NOT_IMPLEMENTED, 'DJI firmware upgrades are not available');
    return ctx.firmwareUpgrades.start({ ...input, createdBy: createdByOf(ctx) });
  }
}
