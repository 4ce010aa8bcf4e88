/**
 * Fault: the gateway process is killed (SIGKILL, no shutdown at all) while a
 * dock streams QoS 1 ota_progress events, twice: once mid-stream and once
 * while it is draining what the broker kept for it. Nothing the broker
 * accepted may be lost, and nothing may be recorded twice: the PUBACK leaves
 * only after the commit (a message not yet committed is redelivered by the
 * broker's persistent session) and the dedupe key absorbs the redeliveries.
 *
 * Private Mosquitto (persistence, free port), gateway as `node dist/src/server.js`
 * with the default MQTT settings (persistent session, shared subscription).
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { querySqlite, report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { describeWithMosquitto, openFaultStage, type FaultStage, type Mosquitto } from '../support/mosquitto';

const N = 2000;
const GATEWAY_SN = 'DOCK-CRASH';
const TOPIC = `thing/product/${GATEWAY_SN}/events`;
const T0 = Date.UTC(2026, 5, 1);

const event = (i: number) =>
  JSON.stringify({
    tid: `crash-${i}`,
    bid: 'bid-crash',
    timestamp: T0 + i,
    method: 'ota_progress',
    need_reply: 1,
    gateway: GATEWAY_SN,
    data: { result: 0, output: { status: 'in_progress', progress: { percent: Math.floor((i * 100) / N), step_key: 'download_firmware' } } },
  });

/** Publishes events `from..to-1` with QoS 1, up to 50 in flight; resolves when the broker acknowledged all. */
async function publishRange(client: MqttClient, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      await client.publishAsync(TOPIC, event(i), { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
}

describeWithMosquitto()('fault: gateway killed with SIGKILL during a QoS 1 stream', () => {
  let stage: FaultStage;
  let broker: Mosquitto;
  let dir: string;
  let gateways: GatewayProcess[];
  beforeAll(async () => {
    stage = await openFaultStage('ota-fault-crash-');
    ({ broker, dir } = stage);
    gateways = stage.gateways as GatewayProcess[];
  });
  afterAll(() => stage.dispose());

  const db = () => join(dir, 'gateway.sqlite');
  const start = async () => {
    const g = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId: 'fault-crash-gateway' });
    gateways.push(g);
    return g;
  };
  const kill = async (g: GatewayProcess) => {
    g.child.kill('SIGKILL');
    expect((await g.exited).signal).toBe('SIGKILL');
  };
  const recorded = async () =>
    (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`))[0].n;

  test('killed twice (mid-stream, and while draining), restarted: every message the broker accepted is recorded exactly once', async () => {
    let gateway = await start();
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-crash-dock', protocolVersion: 4, reconnectPeriod: 0 });
    const q = N / 4;

    // 1. Stream; kill as soon as the last of the first quarter is accepted, whatever is in flight.
    await publishRange(dock, 0, q);
    await kill(gateway);
    const atFirstKill = await recorded();

    // 2. While it is down: its persistent session at the broker keeps these for it.
    await publishRange(dock, q, 2 * q);

    // 3. Back; killed again while it drains that backlog.
    gateway = await start();
    const deadline = Date.now() + 10_000;
    while ((await recorded()) <= atFirstKill && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const backlogArrived = (await recorded()) > atFirstKill;
    await kill(gateway);
    const atSecondKill = await recorded();

    // 4. Down again, more arrive; then back for good while the rest streams in live.
    await publishRange(dock, 2 * q, 3 * q);
    gateway = await start();
    await publishRange(dock, 3 * q, N);
    await dock.endAsync();

    const live = Array.from({ length: q }, (_, i) => `crash-${3 * q + i}`);
    const tidsRecorded = async () =>
      new Set(
        (await querySqlite<{ dedupe_key: string }>(db(), `SELECT dedupe_key FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`)).map(
          (k) => k.dedupe_key.split(':').at(-1)!,
        ),
      );
    // Settle: everything arrived, or nothing more for 3 s once the live quarter is in (bounded: 60 s).
    const settle = Date.now() + 60_000;
    let last = -1;
    let lastChange = Date.now();
    while (Date.now() < settle) {
      const now = await tidsRecorded();
      if (now.size !== last) [last, lastChange] = [now.size, Date.now()];
      if (now.size >= N || (live.every((t) => now.has(t)) && Date.now() - lastChange > 3000)) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const keys = await querySqlite<{ dedupe_key: string }>(db(), `SELECT dedupe_key FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`);
    const tids = keys.map((k) => k.dedupe_key.split(':').at(-1)!);
    const distinct = new Set(tids);
    const duplicates = (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM inbound_message WHERE outcome = 'DUPLICATE'`))[0].n;
    const events = (await querySqlite<{ n: number }>(db(), `SELECT COUNT(*) AS n FROM progress_event`))[0].n;
    const lost = Array.from({ length: N }, (_, i) => `crash-${i}`).filter((tid) => !distinct.has(tid));
    const figures = { lost, recordedTwice: tids.length - distinct.size, liveLost: live.filter((t) => !distinct.has(t)) };
    const sub = (await querySqlite<{ percent: number; status: string }>(db(), `SELECT percent, status FROM upgrade_sub_task`))[0];

    report('kill -9 during a QoS 1 stream', {
      sent: N,
      acceptedByBroker: N,
      recordedAtFirstKill: atFirstKill,
      backlogDeliveredAfterRestart: backlogArrived,
      recordedAtSecondKill: atSecondKill,
      recorded: distinct.size,
      recordedTwice: figures.recordedTwice,
      duplicatesAbsorbed: duplicates,
      lost: lost.length,
      lostOfThoseSentWhileUp: figures.liveLost.length,
      progressEvents: events,
    });

    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    expect(events).toBe(N);
    expect(atSecondKill).toBeGreaterThanOrEqual(atFirstKill);
    // The state is the latest event's, whatever the order redeliveries came in.
    expect(sub).toEqual({ percent: Math.floor(((N - 1) * 100) / N), status: 'IN_PROGRESS' });

    gateway.child.kill('SIGTERM');
    expect((await gateway.exited).code).toBe(0);
  }, 240_000);
});
