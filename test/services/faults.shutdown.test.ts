/**
 * Fault: SIGTERM while Huawei pushes pour in (and a dock streams QoS 1 events).
 * The process stops taking connections, finishes what is in flight, exits 0
 * within its 10 s limit, and every push it answered 200 is in the database;
 * after a restart, every event the broker accepted is recorded too.
 * Private Mosquitto (persistence, free port), gateway as `node dist/src/server.js`.
 */
import { join } from 'node:path';
import mqtt from 'mqtt';
import { HUAWEI_CALLBACK_PATH } from '../../src/ingest/huawei/webhook.plugin';
import { querySqlite, report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { describeWithMosquitto, openFaultStage, type FaultStage, type Mosquitto } from '../support/mosquitto';

const WORKERS = 32;
/** Bound on pushes per worker, whatever happens. */
const MAX_PER_WORKER = 400;
const GATEWAY_SN = 'DOCK-TERM';

const push = (operationId: string) =>
  JSON.stringify({
    notifyType: 'fwUpgradeStateChangeNotify',
    deviceId: `dev-${operationId}`,
    appId: 'app-term',
    operationId,
    subOperationId: `sub-${operationId}`,
    step: '1',
    stepDesc: 'downloading',
  });

describeWithMosquitto()('fault: SIGTERM during webhook load', () => {
  let stage: FaultStage;
  let broker: Mosquitto;
  let dir: string;
  let gateways: GatewayProcess[];
  beforeAll(async () => {
    stage = await openFaultStage('ota-fault-term-');
    ({ broker, dir } = stage);
    gateways = stage.gateways as GatewayProcess[];
  });
  afterAll(() => stage.dispose());

  test('every push answered 200 before or during the shutdown is stored; exit 0; nothing the broker accepted is lost', async () => {
    const gateway = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId: 'fault-term-gateway', env: { LOG_LEVEL: 'warn' } });
    gateways.push(gateway);
    const db = join(dir, 'gateway.sqlite');

    const answers = new Map<string, number | 'no answer'>();
    let signalled = false;
    let refusedAfterSignal = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < MAX_PER_WORKER; i++) {
        const operationId = `term-${w}-${i}`;
        try {
          const response = await fetch(`${gateway.url}${HUAWEI_CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: push(operationId) });
          answers.set(operationId, response.status);
          await response.arrayBuffer();
        } catch {
          answers.set(operationId, 'no answer');
          // Refused: the server is gone or going. A few more tries, then stop.
          if (signalled && ++refusedAfterSignal > WORKERS * 3) return;
        }
      }
    };

    // Docks stream too (a few hundred events a second in all); the broker keeps for the
    // gateway whatever it has not acknowledged.
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-term-dock', protocolVersion: 4, reconnectPeriod: 0 });
    let streamed = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming && streamed < 20_000) {
        if (streamed % 10 === 0) await new Promise((r) => setTimeout(r, 20));
        const i = streamed++;
        await dock.publishAsync(
          `thing/product/${GATEWAY_SN}/events`,
          JSON.stringify({ tid: `term-ev-${i}`, bid: 'bid-term', timestamp: Date.UTC(2026, 7, 1) + i, method: 'ota_progress', data: { result: 0, output: { status: 'in_progress', progress: { percent: i % 100 } } } }),
          { qos: 1 },
        );
      }
    })();

    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    // Under load: wait until a good number of pushes are answered, then signal.
    const deadline = Date.now() + 30_000;
    while ([...answers.values()].filter((a) => a === 200).length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const signalledAt = Date.now();
    signalled = true;
    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;
    const stoppedInMs = Date.now() - signalledAt;
    await load;
    // The dock goes on a little while the gateway is down: the broker keeps those in its session.
    await new Promise((r) => setTimeout(r, 300));
    streaming = false;
    await stream;
    await dock.endAsync();

    const ok = [...answers].filter(([, a]) => a === 200).map(([id]) => id);
    const stored = new Set(
      (await querySqlite<{ payload: string }>(db, `SELECT payload FROM inbound_message WHERE channel = 'fwUpgradeStateChangeNotify' AND outcome = 'RECORDED'`)).map(
        (r) => JSON.parse(r.payload).operationId as string,
      ),
    );
    const lost = ok.filter((id) => !stored.has(id));
    const eventsBeforeRestart = (await querySqlite<{ n: number }>(db, `SELECT COUNT(*) AS n FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`))[0].n;

    // Restart: the broker hands over what the stopped gateway had not acknowledged.
    const again = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId: 'fault-term-gateway', env: { LOG_LEVEL: 'warn' } });
    gateways.push(again);
    const settle = Date.now() + 60_000;
    const eventsRecorded = async () =>
      (await querySqlite<{ n: number }>(db, `SELECT COUNT(DISTINCT dedupe_key) AS n FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`))[0].n;
    while ((await eventsRecorded()) < streamed && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
    const eventsAfterRestart = await eventsRecorded();
    // A re-push of a stored push is a duplicate: the dedupe key survived the restart.
    const repush = await fetch(`${again.url}${HUAWEI_CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: push(ok[0]) });
    expect(repush.status).toBe(200);
    const dupes = (await querySqlite<{ n: number }>(db, `SELECT COUNT(*) AS n FROM inbound_message WHERE channel = 'fwUpgradeStateChangeNotify' AND outcome = 'DUPLICATE'`))[0].n;
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);

    const count = (what: number | 'no answer') => [...answers.values()].filter((a) => a === what).length;
    report('SIGTERM during webhook load', {
      pushesSent: answers.size,
      answered200: ok.length,
      answered503: count(503),
      noAnswer: count('no answer'),
      stored: stored.size,
      lost: lost.length,
      storedWithoutA200: [...stored].filter((id) => answers.get(id) !== 200).length,
      exitCode: String(exit.code),
      stoppedInMs,
      mqttEventsAcceptedByBroker: streamed,
      recordedBeforeRestart: eventsBeforeRestart,
      recordedAfterRestart: eventsAfterRestart,
      mqttLost: streamed - eventsAfterRestart,
      repushAfterRestartDuplicate: dupes === 1,
    });

    expect(exit).toEqual({ code: 0, signal: null });
    expect(lost).toEqual([]);
    expect(count(200)).toBeGreaterThanOrEqual(500);
    expect(eventsAfterRestart).toBe(streamed);
    expect(dupes).toBe(1);
  }, 240_000);
});
