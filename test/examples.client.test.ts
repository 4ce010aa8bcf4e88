import { randomUUID } from 'node:crypto';
import type { WebSocket as WsSocket } from 'ws';
import WebSocket from 'ws';
import { createGatewayClient, type GatewayClient } from '../examples/client/client';
import {
  FollowProgressDocument,
  ListTasksDocument,
  NodeByIdDocument,
  StartFirmwareUpgradeDocument,
  TaskDetailDocument,
  type FollowProgressSubscription,
} from '../examples/generated/graphql';
import { startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { collectingOutput } from '../src/simulators/output';
import { firmwareDevice } from './fixtures/dji/firmware-device';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';

/*
 * The example client (examples/client) as a frontend uses it: Apollo Client
 * over HTTP and graphql-ws with the generated typed documents, against a real
 * gateway with a token, and a simulated DJI dock on the gateway's embedded
 * broker driving real upgrades.
 */
const TOKEN = 'frontend-example-token-0123456789';
let gateway: TestGateway;
let client: GatewayClient;
let dock: DockSimulator | null = null;

beforeAll(async () => {
  gateway = await startTestGateway({ API_TOKEN: TOKEN });
});
afterEach(async () => {
  await client?.dispose();
  await dock?.close();
  dock = null;
});
afterAll(async () => gateway.stop());

const newSn = () => `FE${randomUUID().slice(0, 8).toUpperCase()}`;

/** Starts a dock and an upgrade on it through the typed mutation; returns the task. */
async function startUpgrade(speed: number) {
  const sn = newSn();
  dock = await startDock({ gatewaySn: sn, mqttUrl: gateway.mqttUrl, speed, once: true, output: collectingOutput() });
  const created = await client.apollo.mutate({ mutation: StartFirmwareUpgradeDocument, variables: { input: { gatewaySn: sn, devices: [firmwareDevice(sn) as never] } } });
  return created.data!.createFirmwareUpgrade;
}

/** Follows a one-device task's progress through Apollo; resolves with every message once its device has ended. */
function follow(taskId: string, onMessage: (message: FollowProgressSubscription['upgradeProgress'], count: number) => void = () => undefined) {
  const received: FollowProgressSubscription['upgradeProgress'][] = [];
  const errors: unknown[] = [];
  const done = new Promise<typeof received>((resolve, reject) => {
    const subscription = client.apollo.subscribe({ query: FollowProgressDocument, variables: { taskId, fromStart: true } }).subscribe({
      next: (result) => {
        if (result.error) errors.push(result.error);
        const message = result.data?.upgradeProgress;
        if (!message) return;
        received.push(message);
        onMessage(message, received.length);
        // The event's status is the device's status right after it (in a replay, the task is as it stands now).
        if (['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED'].includes(message.event.status)) {
          subscription.unsubscribe();
          resolve(received);
        }
      },
      error: reject,
    });
  });
  return { received, errors, done };
}

/** The recorded history of a task's first device, by the API. */
async function historyOf(taskId: string): Promise<string[]> {
  const { body } = await gateway.gql<any>(
    `query($id: ID!) { upgradeTask(id: $id) { subTasks(first: 1) { nodes { events(first: 100) { nodes { id } } } } } }`,
    { id: taskId },
    { authorization: `Bearer ${TOKEN}` },
  );
  expect(body.errors).toBeUndefined();
  return body.data.upgradeTask.subTasks.nodes[0].events.nodes.map((e: { id: string }) => e.id);
}

test('the typed client lists tasks, reads one and fetches it back by node id, over HTTP with the token', async () => {
  client = createGatewayClient({ url: gateway.url, token: TOKEN, webSocketImpl: WebSocket });
  const task = await startUpgrade(30);
  const list = await client.apollo.query({ query: ListTasksDocument, variables: { first: 5 } });
  expect(list.data!.upgradeTasks.edges.map((e) => e.node.id)).toContain(task.id);
  const node = await client.apollo.query({ query: NodeByIdDocument, variables: { id: task.id } });
  expect(node.data!.node).toMatchObject({ __typename: 'UpgradeTask', id: task.id });
});

test('a subscription opened right after createFirmwareUpgrade, with fromStart, sees every event from PENDING on', async () => {
  client = createGatewayClient({ url: gateway.url, token: TOKEN, webSocketImpl: WebSocket });
  const task = await startUpgrade(30);
  const { done } = follow(task.id);
  const messages = await done;
  expect(messages[0].event.status).toBe('PENDING');
  expect(messages.at(-1)!.task.status).toBe('SUCCEEDED');
  expect(messages.map((m) => m.event.id)).toEqual(await historyOf(task.id));
}, 60_000);

test('killing the socket mid-upgrade loses nothing: the ResumeLink resubscribes after the last cursor', async () => {
  client = createGatewayClient({ url: gateway.url, token: TOKEN, webSocketImpl: WebSocket });
  let socket: WsSocket | null = null;
  let connections = 0;
  client.ws.on('connected', (s) => {
    socket = s as WsSocket;
    connections++;
  });
  const task = await startUpgrade(5);
  const { done } = follow(task.id, (_message, count) => {
    // Cut the network after a few messages, as a train tunnel would; graphql-ws reconnects by itself.
    if (count === 4) socket!.terminate();
  });
  const messages = await done;
  expect(connections).toBeGreaterThanOrEqual(2);
  const history = await historyOf(task.id);
  expect(history.length).toBeGreaterThan(20);
  // Every recorded event exactly once, in order: none lost while the socket was down, none repeated.
  expect(messages.map((m) => m.event.id)).toEqual(history);
}, 60_000);

test("Apollo's InMemoryCache shows the final state of a live upgrade without refetching", async () => {
  client = createGatewayClient({ url: gateway.url, token: TOKEN, webSocketImpl: WebSocket });
  const sn = newSn();
  dock = await startDock({ gatewaySn: sn, mqttUrl: gateway.mqttUrl, speed: 30, once: true, output: collectingOutput() });
  // The screen: a list of tasks, then the detail of the new one, both cached.
  const created = await client.apollo.mutate({ mutation: StartFirmwareUpgradeDocument, variables: { input: { gatewaySn: sn, devices: [firmwareDevice(sn) as never] } } });
  const taskId = created.data!.createFirmwareUpgrade.id;
  await client.apollo.query({ query: ListTasksDocument, variables: { first: 5 } });
  await client.apollo.query({ query: TaskDetailDocument, variables: { id: taskId } });
  await follow(taskId).done;

  const cached = client.apollo.readQuery({ query: TaskDetailDocument, variables: { id: taskId } })!.upgradeTask!;
  expect(cached).toMatchObject({ status: 'SUCCEEDED', progress: 100, statusCounts: [{ status: 'SUCCEEDED', count: 1 }] });
  expect(cached.subTasks.nodes[0]).toMatchObject({ deviceId: sn, status: 'SUCCEEDED', percent: 100, step: 'upgrade_firmware' });
  const listed = client.apollo.readQuery({ query: ListTasksDocument, variables: { first: 5 } })!.upgradeTasks.edges.find((e) => e.node.id === taskId)!.node;
  expect(listed).toMatchObject({ status: 'SUCCEEDED', progress: 100, statusCounts: [{ status: 'SUCCEEDED', count: 1 }] });
  expect(listed.subTasks.nodes[0]).toMatchObject({ status: 'SUCCEEDED', percent: 100 });
  // And it is what the server says.
  await eventually(async () => {
    const fresh = await client.apollo.query({ query: TaskDetailDocument, variables: { id: taskId }, fetchPolicy: 'network-only' });
    return fresh.data!.upgradeTask!.status === 'SUCCEEDED';
  });
}, 60_000);
