import DataLoader from 'dataloader';
import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { UpgradeSource } from '../../domain';
import type { Device } from '../../inventory/device.entity';
import type { FirmwareVersionCount } from '../../inventory/device-reads';
import { type DeviceFilter, type DeviceKey, deviceKey } from '../../inventory/filter';
import { TOPICS, routeKey } from '../../recorder/event-bus';
import type { UpgradeSubTask } from '../../store/entities';
import type { GraphQLContext } from '../context';
import { DeviceConnection, DeviceFilterInput, DeviceType, DeviceUpgradesArgs, FirmwareVersionCountType } from '../device-types';
import { deviceLocalId, deviceOfArgument, parseDeviceLocalId } from '../device-ids';
import { badUserInput, type InvalidField } from '../errors';
import { forwardRequest, pageConnection, pageRequest, parseTimeCursor, timeCursor } from '../pagination';
import { filterStream } from '../progress-stream';
import { registerNodeType } from '../relay';
import { PageArgs, UpgradeSubTaskConnection, UpgradeSubTaskType } from '../types';

/** Longest text a device filter or argument may carry (device ids and versions are stored up to 256). */
const MAX_TEXT = 256;

function checkText(fields: Record<string, string | null | undefined>): void {
  const bad: InvalidField[] = Object.entries(fields)
    .filter(([, value]) => typeof value === 'string' && value.length > MAX_TEXT)
    .map(([field]) => ({ field, message: `must be at most ${MAX_TEXT} characters` }));
  if (bad.length > 0) throw badUserInput('Invalid device filter', bad);
}

/*
 * Cursors of the devices list name a device by its place in the stable
 * (source, device id) order: devices added meanwhile do not shift later pages.
 */
function deviceCursor(device: Device): string {
  return Buffer.from(JSON.stringify(['d', device.source, device.deviceId])).toString('base64url');
}

function parseDeviceCursor(cursor: string | null | undefined): DeviceKey | null {
  if (cursor == null) return null;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = null;
  }
  if (!Array.isArray(parts) || parts[0] !== 'd' || typeof parts[1] !== 'string' || typeof parts[2] !== 'string') {
    throw badUserInput('Invalid cursor', [{ field: 'after', message: 'is not a cursor this API gave out' }]);
  }
  return { source: parts[1], deviceId: parts[2] };
}

const keyString = (key: DeviceKey) => `${key.source}\u0000${key.deviceId}`;

/** Per-operation loaders of the inventory, so a page with nested devices costs a fixed number of queries. */
function loadersOf(ctx: GraphQLContext) {
  let loaders = LOADERS.get(ctx);
  if (!loaders) {
    const devices = ctx.devices;
    loaders = {
      byKey: new DataLoader<DeviceKey, Device | null, string>(
        async (keys) => {
          const byKey = new Map((await devices.byKeys(keys)).map((d) => [keyString(deviceKey(d)), d]));
          return keys.map((k) => byKey.get(keyString(k)) ?? null);
        },
        { cacheKeyFn: keyString },
      ),
      subDevices: new DataLoader<string, Device[]>(async (dockSns) => {
        const rows = await devices.subDevicesOf(dockSns);
        return dockSns.map((sn) => rows.filter((r) => r.gatewaySn === sn));
      }),
    };
    LOADERS.set(ctx, loaders);
  }
  return loaders;
}
const LOADERS = new WeakMap<GraphQLContext, { byKey: DataLoader<DeviceKey, Device | null, string>; subDevices: DataLoader<string, Device[]> }>();

registerNodeType(
  'Device',
  async (ctx, localIds) => {
    const keys = localIds.map(parseDeviceLocalId);
    const rows = await loadersOf(ctx).byKey.loadMany(keys.filter((k): k is DeviceKey => k !== null));
    let next = 0;
    return keys.map((k) => {
      if (!k) return null;
      const row = rows[next++];
      return row instanceof Error ? null : row;
    });
  },
  (device: Device) => deviceLocalId(device),
);

interface DeviceChangedArgs {
  gatewaySn?: string | null;
  deviceId?: string | null;
}

/** Which changes a `deviceChanged` subscriber asked for. */
function deviceChangedFilter(args: DeviceChangedArgs): (device: Device) => boolean {
  const named = args.deviceId ? deviceOfArgument(args.deviceId) : null;
  return (d) =>
    (!args.gatewaySn || d.gatewaySn === args.gatewaySn) &&
    (!named || (d.deviceId === named.deviceId && (!named.source || d.source === named.source)));
}

/** The fleet inventory: devices, their versions, live changes. Thin over the inventory's read store. */
@Resolver(() => DeviceType)
export class DeviceResolver {
  @Query(() => DeviceConnection, { description: 'Devices of the fleet, in a stable order (source, then device id).' })
  async devices(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('filter', () => DeviceFilterInput, { nullable: true }) filter?: DeviceFilterInput | null,
  ): Promise<DeviceConnection> {
    const f: DeviceFilter = filter ?? {};
    checkText({
      'filter.gatewaySn': f.gatewaySn,
      'filter.model': f.model,
      'filter.firmwareVersion': f.firmwareVersion,
      'filter.firmwareVersionNot': f.firmwareVersionNot,
      'filter.deviceIdPrefix': f.deviceIdPrefix,
    });
    const request = forwardRequest(first, after, parseDeviceCursor);
    const page = await ctx.devices.list(f, request.size, request.after);
    return pageConnection(page, deviceCursor, request) as unknown as DeviceConnection;
  }

  @Query(() => DeviceType, { nullable: true, description: 'One device; null when there is none.' })
  device(
    @Ctx() ctx: GraphQLContext,
    @Arg('deviceId', () => String, { description: 'Its deviceId (DJI sn, Huawei deviceId), or its `id`.' }) deviceId: string,
    @Arg('source', () => UpgradeSource, { nullable: true }) source?: UpgradeSource | null,
  ): Promise<Device | null> {
    checkText({ deviceId });
    const named = deviceOfArgument(deviceId);
    if (named.source && source && named.source !== source) return Promise.resolve(null);
    return ctx.devices.device(named.deviceId, (named.source as UpgradeSource | null) ?? source ?? null);
  }

  @Query(() => [FirmwareVersionCountType], {
    description: 'How many devices run each firmware version, per model: one entry per (model, version) in the fleet.',
  })
  firmwareVersions(
    @Ctx() ctx: GraphQLContext,
    @Arg('model', () => String, { nullable: true }) model?: string | null,
    @Arg('source', () => UpgradeSource, { nullable: true }) source?: UpgradeSource | null,
  ): Promise<FirmwareVersionCount[]> {
    checkText({ model });
    return ctx.devices.firmwareVersions(model ?? null, source ?? null);
  }

  @FieldResolver(() => [DeviceType], { description: 'The devices behind a dock (its aircraft), online or not; empty for others.' })
  async subDevices(@Root() device: Device, @Ctx() ctx: GraphQLContext): Promise<Device[]> {
    if (device.source !== UpgradeSource.DJI || device.gatewaySn !== device.deviceId) return [];
    return loadersOf(ctx).subDevices.load(device.deviceId);
  }

  @FieldResolver(() => UpgradeSubTaskConnection, { description: 'The upgrades of this device, newest first.' })
  async upgrades(@Root() device: Device, @Ctx() ctx: GraphQLContext, @Args(() => DeviceUpgradesArgs) args: DeviceUpgradesArgs) {
    const request = pageRequest(args, parseTimeCursor);
    const page = await ctx.store.listSubTasks({ deviceId: device.deviceId, source: device.source }, request.size, request.after, request);
    return pageConnection(page, timeCursor, request);
  }

  @Subscription(() => DeviceType, {
    description: 'Every recorded change of a device (versions, online, upgrading, dock), optionally of one dock or one device.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, DeviceChangedArgs, GraphQLContext>) => {
      // Handed only the changes of the device (or dock) it names, then filtered on both.
      const named = args.deviceId ? deviceOfArgument(args.deviceId) : null;
      const key = routeKey.device(named?.deviceId) ?? routeKey.gateway(args.gatewaySn);
      return filterStream(context.listen<Device>(TOPICS.DEVICE_CHANGED, key), deviceChangedFilter(args));
    },
  })
  deviceChanged(
    @Root() device: Device,
    @Arg('gatewaySn', () => String, { nullable: true }) _gatewaySn?: string | null,
    @Arg('deviceId', () => String, { nullable: true, description: 'Its deviceId, or its `id`.' }) _deviceId?: string | null,
  ): Device {
    return device;
  }
}

/** `UpgradeSubTask.device`: the inventory's device of a sub-task. */
@Resolver(() => UpgradeSubTaskType)
export class SubTaskDeviceResolver {
  @FieldResolver(() => DeviceType, { nullable: true, description: 'The device in the fleet inventory.' })
  async device(@Root() subTask: UpgradeSubTask, @Ctx() ctx: GraphQLContext): Promise<Device | null> {
    const task = await ctx.loaders.task.load(subTask.taskId);
    if (!task) return null;
    return loadersOf(ctx).byKey.load({ source: task.source, deviceId: subTask.deviceId });
  }
}
