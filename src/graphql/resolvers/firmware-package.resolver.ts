import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { FirmwarePackage } from '../../store/entities';
import { createdByOf, type GraphQLContext } from '../context';
import { codedError, ErrorCode } from '../errors';
import { forwardRequest, pageConnection, parseTimeCursor, timeCursor } from '../pagination';
import { FirmwarePackageConnection, FirmwarePackageFilterInput, FirmwarePackageType, RegisterFirmwarePackageInput } from '../rollouts/package-types';
import { inIdOrder, localIdOf, registerNodeType } from '../relay';
import { PageArgs } from '../types';
import { modelNameOf } from '../../rollouts/model-names';

function packagesOf(ctx: GraphQLContext) {
  if (!ctx.rollouts) throw codedError(ErrorCode.NOT_IMPLEMENTED, 'Firmware packages are not available');
  return ctx.rollouts.packages;
}

registerNodeType('FirmwarePackage', async (ctx, ids) => (ctx.rollouts ? inIdOrder(ids, await ctx.rollouts.packages.byIds(ids)) : ids.map(() => null)));

/** Firmware packages: one build per model and version. */
@Resolver(() => FirmwarePackageType)
export class FirmwarePackageResolver {
  @Mutation(() => FirmwarePackageType, {
    description:
      'Registers a firmware build for one model: DJI (file URL, MD5, …) or HUAWEI (the platform\'s fileId and kind). A second package with the same source, model and version is BAD_USER_INPUT.',
  })
  registerFirmwarePackage(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => RegisterFirmwarePackageInput) input: RegisterFirmwarePackageInput,
  ): Promise<FirmwarePackage> {
    return packagesOf(ctx).register(input, createdByOf(ctx));
  }

  @Query(() => FirmwarePackageConnection, { description: 'Firmware packages, newest first.' })
  async firmwarePackages(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => FirmwarePackageFilterInput, { nullable: true }) filter?: FirmwarePackageFilterInput | null,
  ): Promise<FirmwarePackageConnection> {
    const request = forwardRequest(first, after, parseTimeCursor);
    const page = await packagesOf(ctx).list(filter ?? {}, request.size, request.after);
    // modelName is resolved per package below.
    return pageConnection(page, timeCursor, request) as unknown as FirmwarePackageConnection;
  }

  @Query(() => FirmwarePackageType, { nullable: true })
  async firmwarePackage(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<FirmwarePackage | null> {
    const localId = localIdOf('FirmwarePackage', id);
    return localId === null ? null : packagesOf(ctx).byId(localId);
  }

  @FieldResolver(() => String, { nullable: true })
  modelName(@Root() pkg: FirmwarePackage): string | null {
    return modelNameOf(pkg.model);
  }
}
