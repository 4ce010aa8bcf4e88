/**
 * Subscription events are executed by graphql-jit (see compileEvents in
 * src/graphql/shared-execution.ts). For every field a subscriber can select
 * without arguments, on the gateway's own schema and messages shaped as the
 * recorder publishes them, the compiled document gives what graphql-js gives.
 */
import { execute, getNamedType, isLeafType, isObjectType, parse, type ExecutionResult, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { EMPTY_TALLY, ShadowStatus, UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';
import { newDeviceRow } from '../src/inventory/device.entity';
import { unknownDevice } from '../src/inventory/rules';
import { buildGatewaySchema } from '../src/graphql/schema';
import { createGatewayPubSub } from '../src/server/pubsub';
import { ProgressEvent, ShadowEvent, UpgradeTask, newSubTask, storeTally } from '../src/store/entities';

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildGatewaySchema(createGatewayPubSub(undefined).pubSub);
});

/** Every field of `type` a client can select without arguments, objects down to `depth`. */
function selection(type: GraphQLObjectType, depth: number): string {
  return Object.values(type.getFields())
    .filter((field) => field.args.length === 0)
    .flatMap((field) => {
      const named = getNamedType(field.type);
      if (isLeafType(named)) return [field.name];
      if (isObjectType(named) && depth > 0) return [`${field.name} { ${selection(named, depth - 1)} }`];
      return [];
    })
    .join(' ');
}

/** A context whose loaders answer from `tasks` (a sub-task's `task` is read through them). */
function contextOf(tasks: readonly UpgradeTask[]) {
  const load = async (id: string) => tasks.find((t) => t.id === id) ?? null;
  return {
    principal: { name: 'test', role: 'admin' },
    loaders: { task: { load }, subTask: { load: async () => null } },
    devices: { byKeys: async () => [], subDevicesOf: async () => [] },
  };
}

async function both(field: string, payload: unknown, contextValue: unknown = contextOf([])): Promise<[ExecutionResult, ExecutionResult]> {
  const type = getNamedType(schema.getSubscriptionType()!.getFields()[field].type) as GraphQLObjectType;
  const document = parse(`subscription { ${field} { ${selection(type, 2)} } }`);
  const compiled = compileQuery(schema, document);
  if (!isCompiledQuery(compiled)) throw new Error(`not compiled: ${JSON.stringify(compiled)}`);
  return [await compiled.query(payload, contextValue, {}), await execute({ schema, document, rootValue: payload, contextValue })];
}

const plain = (result: ExecutionResult) => JSON.parse(JSON.stringify(result)) as unknown;
const at = new Date('2026-11-26T08:00:00.123Z');

test('upgradeProgress: a DJI task, its sub-task and event, nulls and dates included', async () => {
  const task = Object.assign(new UpgradeTask(), {
    id: 'c0d5a7a2-8f7e-4d55-9b9b-000000000001', source: UpgradeSource.DJI, kind: UpgradeKind.FIRMWARE, externalId: 'bid-1',
    appId: null, gatewaySn: 'DOCK-1', status: UpgradeStatus.IN_PROGRESS, progress: 40, createdAt: at, updatedAt: at, createdBy: 'ops',
  });
  storeTally(task, EMPTY_TALLY);
  const subTask = Object.assign(newSubTask(task.id, 'DOCK-1', at), { status: UpgradeStatus.IN_PROGRESS, percent: 40, step: 'download_firmware', fileSize: 2 ** 40 });
  const event = Object.assign(new ProgressEvent(), {
    id: 42, subTaskId: subTask.id, taskId: task.id, status: UpgradeStatus.IN_PROGRESS, reportedStatus: UpgradeStatus.IN_PROGRESS, vendorStatus: 'in_progress',
    percent: 40, step: 'download_firmware', errorCode: null, statusDesc: null, applied: true, ignoredReason: null, occurredAt: at, receivedAt: at,
  });
  const [compiled, interpreted] = await both('upgradeProgress', { task, subTask, event }, contextOf([task]));
  expect(compiled.errors).toBeUndefined();
  expect(plain(compiled)).toEqual(plain(interpreted));
});

test('deviceChanged and shadowStatusChanged', async () => {
  const device = newDeviceRow({ ...unknownDevice(UpgradeSource.DJI, 'M3-1', at), gatewaySn: 'DOCK-1', firmwareVersion: '1.2.3', online: true, upgrading: true }, at);
  const [compiledDevice, interpretedDevice] = await both('deviceChanged', device);
  expect(compiledDevice.errors).toBeUndefined();
  expect(plain(compiledDevice)).toEqual(plain(interpretedDevice));

  const shadow = Object.assign(new ShadowEvent(), { id: 7, deviceId: 'dev-1', serviceId: 'svc', properties: { a: [1, 'two', null], b: { c: true } }, status: ShadowStatus.DELIVERED, receivedAt: at });
  const [compiledShadow, interpretedShadow] = await both('shadowStatusChanged', shadow);
  expect(compiledShadow.errors).toBeUndefined();
  expect(plain(compiledShadow)).toEqual(plain(interpretedShadow));
});

test('a message missing a non-null field gives the same error and nulls either way', async () => {
  const [compiled, interpreted] = await both('shadowStatusChanged', { id: 8, deviceId: 'dev-1' });
  expect(compiled.errors?.length).toBeGreaterThan(0);
  expect(plain(compiled)).toEqual(plain(interpreted));
});
