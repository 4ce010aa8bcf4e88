/**
 * Fault: the broker (a private Mosquitto with persistence) is stopped in the
 * middle of a QoS 1 stream and started again. The gateway says so on /readyz
 * meanwhile, reconnects by itself (backing off), subscribes again and goes on
 * ingesting; an ota_create asked for during the outage is sent once it is
 * back. Gateway as `node dist/src/server.js`.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { querySqlite, report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { describeWithMosquitto, openFaultStage } from '../support/mosquitto';
import { firmwareDevice } from '../fixtures/dji/firmware-device';

const GATEWAY_SN = 'DOCK-BRK';
const EVENTS = `thing/product/${GATEWAY_SN}/events`;
const SERVICES = `thing/product/${GATEWAY_SN}/services`;
const PER_PHASE = 300;
const T0 = Date.UTC(2026, 6, 1);

const event = (i: number) =>
  JSON.stringify({
    tid: `brk-${i}`,
    bid: 'bid-brk',
    timestamp: T0 + i,
    method: 'ota_progress',
    need_reply: 1,
    gateway: GATEWAY_SN,
    data: { result: 0, output: { status: 'in_progress', progress: { percent: i % 100, step_key: 'download_firmware' } } },
  });

/** Publishes events `from..to-1` with QoS 1, 20 in flight; returns the indexes the broker acknowledged. */
async function publishRange(client: MqttClient, from: number, to: number, stopAfter?: { count: number; then: () => Promise<void> }): Promise<number[]> {
  const accepted: number[] = [];
  let next = from;
  let stopping: Promise<void> | undefined;
  // Without reconnection, MQTT.js never settles a QoS 1 publish whose connection closed: stop waiting then.
  const closed = new Promise<never>((_resolve, reject) => client.once('close', () => reject(new Error('connection closed'))));
  closed.catch(() => undefined);
  const worker = async () => {
    while (next < to) {
      const i = next++;
      try {
        await Promise.race([client.publishAsync(EVENTS, event(i), { qos: 1 }), closed]);
        accepted.push(i);
        if (stopAfter && accepted.length === stopAfter.count) stopping = stopAfter.then();
      } catch {
        // The broker went away with it in flight: not accepted, the dock would send it again.
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  await stopping;
  return accepted.sort((a, b) => a - b);
}

const CREATE = 'mutation ($input: CreateFirmwareUpgradeInput!) { createFirmwareUpgrade(input: $input) { id status externalId } }';
const upgradeInput = {
  gatewaySn: GATEWAY_SN,
  devices: [firmwareDevice(GATEWAY_SN)],
};

interface Figures {
  readonly lostBeforeStop: number[];
  /** Sent once the broker was back, before the gateway had reconnected. */
  readonly lostEarly: number[];
  /** Sent once the gateway was ready again. */
  readonly lostLate: number[];
  readonly recordedTwice: number;
  readonly readyzDuringOutage: number;
  readonly otaCreateSent: boolean;
}

/**
 * Streams; stops the broker (SIGTERM: it saves its persistence) once half of
 * the first phase is accepted; checks /readyz and asks for an upgrade during
 * the outage; starts the broker again; the dock reconnects at once and goes on
 * sending; once the gateway is ready again, more is sent. Returns what was lost
 * of each phase.
 */
async function brokerRestartScenario(name: string, env: Record<string, string>): Promise<Figures> {
  const stage = await openFaultStage('ota-fault-broker-');
  const { broker, dir } = stage;
  let gateway: GatewayProcess | undefined;
  const db = join(dir, 'gateway.sqlite');
  const readyz = async () => {
    const response = await fetch(`${gateway!.url}/readyz`).catch(() => null);
    return response ? { status: response.status, body: (await response.json()) as { checks: Record<string, boolean> } } : null;
  };
  const recordedTids = async () =>
    new Set(
      (await querySqlite<{ dedupe_key: string }>(db, `SELECT dedupe_key FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`)).map((k) =>
        Number(k.dedupe_key.split('brk-').at(-1)),
      ),
    );
  /** Waits until every index in `wanted` is recorded, or nothing more arrives for 3 s (bounded: 60 s). */
  const settle = async (wanted: readonly number[]) => {
    const deadline = Date.now() + 60_000;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const got = await recordedTids();
      if (got.size !== last) [last, lastChange] = [got.size, Date.now()];
      if (wanted.every((i) => got.has(i)) || Date.now() - lastChange > 3000 || Date.now() > deadline) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    gateway = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId: 'fault-broker-gateway', env });
    // A dock that listens for commands with a persistent session: the broker keeps what comes while it is away.
    const listener = await mqtt.connectAsync(broker.url, { clientId: 'fault-broker-dock-rx', clean: false, protocolVersion: 4, reconnectPeriod: 200 });
    listener.on('error', () => undefined);
    await listener.subscribeAsync(SERVICES, { qos: 1 });
    const commands: { bid: string; tid: string }[] = [];
    listener.on('message', (topic, payload) => {
      if (topic === SERVICES) commands.push(JSON.parse(payload.toString()));
    });
    let dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-broker-dock-tx', protocolVersion: 4, reconnectPeriod: 0 });
    dock.on('error', () => undefined);

    // 1. Streaming; the broker is stopped once half of it is accepted.
    const before = await publishRange(dock, 0, PER_PHASE, { count: PER_PHASE / 2, then: () => broker.stop() });
    dock.end(true);

    // 2. Outage: not ready, and says why; an upgrade asked for now is stored, not sent.
    const deadline = Date.now() + 15_000;
    let duringOutage = await readyz();
    while (duringOutage?.status !== 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      duringOutage = await readyz();
    }
    expect(duringOutage).toEqual({ status: 503, body: expect.objectContaining({ checks: expect.objectContaining({ database: true, mqtt: false }) }) });
    const created = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CREATE, variables: { input: upgradeInput } }),
    });
    const task = ((await created.json()) as { data: { createFirmwareUpgrade: { status: string; externalId: string } } }).data.createFirmwareUpgrade;
    expect(task.status).toBe('PENDING');
    await new Promise((r) => setTimeout(r, 1000));

    // 3. The broker is back; the dock reconnects at once and goes on sending.
    const restartedAt = Date.now();
    await broker.start();
    dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-broker-dock-tx', protocolVersion: 4, reconnectPeriod: 0 });
    const early = await publishRange(dock, PER_PHASE, 2 * PER_PHASE);

    // 4. The gateway is back by itself; more is sent.
    const readyDeadline = Date.now() + 60_000;
    while ((await readyz())?.status !== 200 && Date.now() < readyDeadline) await new Promise((r) => setTimeout(r, 50));
    const reconnectedMs = Date.now() - restartedAt;
    expect((await readyz())?.status).toBe(200);
    const late = await publishRange(dock, 2 * PER_PHASE, 3 * PER_PHASE);
    await dock.endAsync();

    const got = await settle([...before, ...early, ...late]);
    const commandDeadline = Date.now() + 20_000;
    while (!commands.some((c) => c.bid === task.externalId) && Date.now() < commandDeadline) await new Promise((r) => setTimeout(r, 50));
    await listener.endAsync();

    const duplicates = (await querySqlite<{ n: number }>(db, `SELECT COUNT(*) AS n FROM inbound_message WHERE outcome = 'DUPLICATE'`))[0].n;
    const recordedRows = (await querySqlite<{ n: number }>(db, `SELECT COUNT(*) AS n FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`))[0].n;
    const figures: Figures = {
      lostBeforeStop: before.filter((i) => !got.has(i)),
      lostEarly: early.filter((i) => !got.has(i)),
      lostLate: late.filter((i) => !got.has(i)),
      recordedTwice: recordedRows - got.size,
      readyzDuringOutage: duringOutage!.status,
      otaCreateSent: commands.some((c) => c.bid === task.externalId),
    };
    report(`broker stopped and restarted during a stream, ${name}`, {
      acceptedBeforeStop: before.length,
      lostOfThose: figures.lostBeforeStop.length,
      sentAfterBrokerBackBeforeGatewayBack: early.length,
      lostOfThose2: figures.lostEarly.length,
      sentAfterGatewayBack: late.length,
      lostOfThose3: figures.lostLate.length,
      recordedTwice: figures.recordedTwice,
      duplicatesAbsorbed: duplicates,
      gatewayBackAfterMs: reconnectedMs,
      readyzDuringOutage: figures.readyzDuringOutage,
      otaCreateSentAfterReconnection: figures.otaCreateSent,
    });

    gateway.child.kill('SIGTERM');
    expect((await gateway.exited).code).toBe(0);
    gateway = undefined;
    return figures;
  } finally {
    gateway?.child.kill('SIGKILL');
    await stage.dispose();
  }
}

describeWithMosquitto()('fault: broker stopped and restarted during a stream', () => {
  test('one instance (MQTT_SHARED_GROUP empty: plain subscription, persistent session): /readyz 503 meanwhile, reconnection by itself, nothing lost before or after, the pending ota_create goes out', async () => {
    const figures = await brokerRestartScenario('one instance', { MQTT_SHARED_GROUP: '' });
    expect(figures.lostBeforeStop).toEqual([]);
    expect(figures.lostEarly).toEqual([]);
    expect(figures.lostLate).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    expect(figures.otaCreateSent).toBe(true);
  }, 240_000);

  /*
   * Mosquitto 2.0 does not restore shared subscriptions from its persistence
   * file (a plain subscription of the same persistent session is restored):
   * what docks publish between the broker's restart and the gateway's
   * resubscription (its reconnect delay) reaches no subscriber and is dropped
   * by the broker. Measured and reported here, not asserted away: the README
   * says so. Everything from the resubscription on is recorded.
   */
  test('shared group (the default): the same, except what the broker drops before the gateway has subscribed again', async () => {
    const figures = await brokerRestartScenario('shared group', {});
    expect(figures.lostBeforeStop).toEqual([]);
    expect(figures.lostLate).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    expect(figures.otaCreateSent).toBe(true);
  }, 240_000);
});
