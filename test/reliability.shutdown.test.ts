import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { openDatabase } from '../src/store/data-source';
import { InboundMessage, InboundOutcome } from '../src/store/entities';
import { eventually, sleep, startTestGateway } from './support/gateway';

/** A graphql-ws socket that has been acknowledged; `closed` resolves with the close code. */
async function graphqlSocket(url: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve();
    });
  });
  return { ws, closed };
}

function push(url: string, operationId: string) {
  return fetch(`${url}${HUAWEI_CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      notifyType: 'fwUpgradeStateChangeNotify',
      deviceId: 'dev-1',
      appId: 'app',
      operationId,
      subOperationId: `${operationId}-sub`,
      step: '1',
      stepDesc: 'downloading',
    }),
  });
}

test('graceful close: WebSockets get 1001, no new connections, in-flight pushes and MQTT messages are committed and answered, then the database closes', async () => {
  const gateway = await startTestGateway();
  try {
    const socket = await graphqlSocket(gateway.url);
    const dock = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'shutdown-dock', username: 'DOCK-SD', protocolVersion: 4, reconnectPeriod: 0 });

    const recording = jest.spyOn(gateway.recorder, 'record');
    const channelsRecording = () => recording.mock.calls.map(([envelope]) => envelope.channel).sort();

    // Hold the writer inside a batch: whatever arrives now is in flight until released.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = gateway.writeQueue.submit(async () => {
      await gate;
      return { result: null };
    });
    const inFlight = push(gateway.url, 'op-in-flight');
    // The embedded broker acknowledges a dock's message once it is stored: not while the writer is held.
    let acknowledged = false;
    const published = dock.publishAsync(
      'thing/product/DOCK-SD/events',
      JSON.stringify({ tid: 'tid-in-flight', bid: 'bid-sd', timestamp: Date.now(), method: 'ota_progress', data: { result: 0, output: { status: 'in_progress', progress: { percent: 5 } } } }),
      { qos: 1 },
    ).then(() => (acknowledged = true));
    await eventually(
      () => channelsRecording().join() === 'fwUpgradeStateChangeNotify,ota_progress',
      10_000,
      'the push and the MQTT message waiting for the writer',
    );

    let closed = false;
    const closing = gateway.close().then(() => (closed = true));

    // The socket is told the server is going away, and new connections are refused.
    expect(await socket.closed).toMatchObject({ code: 1001 });
    await eventually(
      async () => (await fetch(`${gateway.url}/healthz`).then(() => false, () => true)),
      10_000,
      'new connections refused',
    );
    // But nothing closes under the work in flight.
    await sleep(200);
    expect(closed).toBe(false);
    expect(acknowledged).toBe(false);
    expect(gateway.dataSource.isInitialized).toBe(true);

    release();
    await held;
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    await published;
    // A hang here is a connection (or anything else) holding the close: the process would be killed at 10 s.
    // The guard's timer is cleared: left running, it held the jest worker 20 s past the test.
    let guard: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        closing,
        new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(new Error('gateway.close() did not finish after the in-flight work ended')), 20_000);
        }),
      ]);
    } finally {
      clearTimeout(guard);
    }
    expect(gateway.dataSource.isInitialized).toBe(false);
    expect(gateway.mqtt.connected).toBe(false);
    await dock.endAsync(true);

    // Both are durable.
    const ds = await openDatabase({ engine: 'sqlite', path: join(gateway.dir, 'gateway.sqlite') });
    try {
      const rows = await ds.getRepository(InboundMessage).find();
      expect(rows.map((r) => [r.channel, r.outcome]).sort()).toEqual([
        ['fwUpgradeStateChangeNotify', InboundOutcome.RECORDED],
        ['ota_progress', InboundOutcome.RECORDED],
      ]);
    } finally {
      await ds.destroy();
    }
  } finally {
    await gateway.close();
    rmSync(gateway.dir, { recursive: true, force: true });
  }
});

test('close is idempotent and finishes with nothing in flight', async () => {
  const gateway = await startTestGateway();
  const first = gateway.close();
  const second = gateway.close();
  expect(first).toBe(second);
  await first;
  expect(gateway.dataSource.isInitialized).toBe(false);
  rmSync(gateway.dir, { recursive: true, force: true });
});
