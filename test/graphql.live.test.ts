import { UpgradeStatus } from '../src/domain';
import { collect, startTestGateway, subscriptionsRunning, type TestGateway } from './support/gateway';
import { huaweiEnvelope } from './support/observations';
import { flat, rowNumberOf } from './support/relay';

const PROGRESS = /* GraphQL */ `
  subscription Progress($taskId: ID, $deviceId: String, $after: String) {
    upgradeProgress(taskId: $taskId, deviceId: $deviceId, after: $after) {
      task { id status progress externalId }
      subTask { deviceId status percent step }
      event { id status vendorStatus percent applied }
    }
  }
`;

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.stop();
});

test('a graphql-ws subscriber receives what the recorder committed, in order', async () => {
  const sub = collect<{ upgradeProgress: any }>(gateway.ws(), PROGRESS);
  await subscriptionsRunning(gateway, 1);

  await gateway.recorder.record(huaweiEnvelope({ operationId: 'live-1', status: UpgradeStatus.IN_PROGRESS, step: 'downloading', vendorStatus: 'downloading' }));
  await gateway.recorder.record(huaweiEnvelope({ operationId: 'live-1', status: UpgradeStatus.SUCCEEDED, vendorStatus: 'SUCCESS' }));

  const [first, second] = await sub.until(2);
  expect(first.upgradeProgress.event).toMatchObject({ status: 'IN_PROGRESS', vendorStatus: 'downloading', applied: true });
  expect(first.upgradeProgress.task).toMatchObject({ externalId: 'live-1', status: 'IN_PROGRESS' });
  expect(second.upgradeProgress.task).toMatchObject({ status: 'SUCCEEDED', progress: 100 });
  expect(rowNumberOf(second.upgradeProgress.event.id)).toBeGreaterThan(rowNumberOf(first.upgradeProgress.event.id));
});

test('HTTP queries read what was recorded', async () => {
  const { status, body } = await gateway.gql(`{ upgradeTasks(filter: { source: HUAWEI }) { totalCount edges { node { externalId status statusCounts { status count } subTasks(first: 5) { nodes { deviceId status events(first: 20) { nodes { status } } } } } } } }`);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  const node = flat((body.data as any).upgradeTasks.edges.find((e: any) => e.node.externalId === 'live-1').node);
  expect(node.statusCounts).toEqual([{ status: 'SUCCEEDED', count: 1 }]);
  expect(node.subTasks[0].events.map((e: any) => e.status)).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
});
