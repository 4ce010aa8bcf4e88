/**
 * Fault: the gateway's storage fails under it, in a real process.
 *
 * - Locked: another process holds the SQLite write lock (a backup tool, an
 *   operator's sqlite3 shell). Writes fail after the busy timeout: pushes get
 *   503, MQTT messages are not acknowledged (the broker redelivers), the
 *   process stays up; when the lock is released everything resumes, and every
 *   event the broker accepted meanwhile is recorded.
 * - Deleted: the database files are removed. SQLite would go on committing to
 *   the nameless file (lost at the next start); the gateway refuses instead:
 *   503s, /readyz 503, no crash. After a restart (a fresh database) the broker
 *   hands over every event it accepted meanwhile.
 *
 * Private Mosquitto (persistence, free port), gateway as `node dist/src/server.js`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sqlite3 from 'sqlite3';
import { HUAWEI_CALLBACK_PATH } from '../../src/ingest/huawei/webhook.plugin';
import { querySqlite, report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { describeWithMosquitto, openFaultStage, type FaultStage, type Mosquitto } from '../support/mosquitto';

const GATEWAY_SN = 'DOCK-STORE';

const push = (operationId: string) =>
  JSON.stringify({ notifyType: 'fwUpgradeStateChangeNotify', deviceId: 'dev-store', appId: 'app', operationId, subOperationId: `sub-${operationId}`, step: '1', stepDesc: 'downloading' });

async function postPush(gateway: GatewayProcess, operationId: string): Promise<number | 'no answer'> {
  try {
    const response = await fetch(`${gateway.url}${HUAWEI_CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: push(operationId) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'no answer';
  }
}

async function publishEvents(dock: MqttClient, prefix: string, count: number): Promise<string[]> {
  const tids: string[] = [];
  for (let i = 0; i < count; i++) {
    const tid = `${prefix}-${i}`;
    await dock.publishAsync(
      `thing/product/${GATEWAY_SN}/events`,
      JSON.stringify({ tid, bid: 'bid-store', timestamp: Date.now(), method: 'ota_progress', data: { result: 0, output: { status: 'in_progress', progress: { percent: i % 100 } } } }),
      { qos: 1 },
    );
    tids.push(tid);
  }
  return tids;
}

const readyz = async (gateway: GatewayProcess) => fetch(`${gateway.url}/readyz`).then((r) => r.status, () => 0);
const healthz = async (gateway: GatewayProcess) => fetch(`${gateway.url}/healthz`).then((r) => r.status, () => 0);

/** Opens a read-write connection and takes the write lock; `release()` gives it back. */
async function holdWriteLock(path: string): Promise<{ release: () => Promise<void> }> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(path, (error) => (error ? reject(error) : resolve(opened)));
  });
  const run = (sql: string) => new Promise<void>((resolve, reject) => db.run(sql, (error) => (error ? reject(error) : resolve())));
  await run('PRAGMA busy_timeout = 10000');
  await run('BEGIN EXCLUSIVE');
  return {
    release: async () => {
      await run('ROLLBACK');
      await new Promise<void>((resolve) => db.close(() => resolve()));
    },
  };
}

describeWithMosquitto()('fault: storage fails under a running gateway', () => {
  let stage: FaultStage;
  let broker: Mosquitto;
  let dir: string;
  let gateways: GatewayProcess[];
  // A broker per test: a stopped gateway's persistent session stays in the shared group and
  // would be handed its share of the next test's messages (for a gateway that never returns).
  beforeEach(async () => {
    stage = await openFaultStage('ota-fault-storage-');
    ({ broker, dir } = stage);
    gateways = stage.gateways as GatewayProcess[];
  });
  afterEach(() => stage.dispose());

  const start = async (clientId: string) => {
    const g = await startGatewayProcess({ dir, mqttUrl: broker.url, clientId, env: { LOG_LEVEL: 'warn' } });
    gateways.push(g);
    return g;
  };
  const recordedTids = async () =>
    new Set(
      (await querySqlite<{ dedupe_key: string }>(join(dir, 'gateway.sqlite'), `SELECT dedupe_key FROM inbound_message WHERE channel = 'ota_progress' AND outcome = 'RECORDED'`)).map(
        (r) => r.dedupe_key.split(':').at(-1)!,
      ),
    );
  const storedPushes = async () =>
    new Set(
      (await querySqlite<{ payload: string }>(join(dir, 'gateway.sqlite'), `SELECT payload FROM inbound_message WHERE channel = 'fwUpgradeStateChangeNotify' AND outcome = 'RECORDED'`)).map(
        (r) => JSON.parse(r.payload).operationId as string,
      ),
    );
  const waitFor = async (check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return check();
  };

  test('locked by another process: 503s, no crash, the broker keeps what is not stored; all resumes when the lock goes', async () => {
    const gateway = await start('fault-storage-locked');
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-storage-dock-1', protocolVersion: 4, reconnectPeriod: 0 });
    const answers = new Map<string, number | 'no answer'>();
    for (const id of ['lock-before-1', 'lock-before-2']) answers.set(id, await postPush(gateway, id));
    const eventsBefore = await publishEvents(dock, 'lock-before', 20);

    const lock = await holdWriteLock(join(dir, 'gateway.sqlite'));
    const lockedAt = Date.now();
    const during = Array.from({ length: 8 }, (_, i) => `lock-during-${i}`);
    const pushing = Promise.all(during.map(async (id) => answers.set(id, await postPush(gateway, id))));
    const eventsDuring = await publishEvents(dock, 'lock-during', 50);
    await pushing;
    const healthDuring = await healthz(gateway);
    const readyDuring = await readyz(gateway);
    await lock.release();
    const lockedForMs = Date.now() - lockedAt;

    for (const id of ['lock-after-1', 'lock-after-2']) answers.set(id, await postPush(gateway, id));
    const eventsAfter = await publishEvents(dock, 'lock-after', 20);
    await dock.endAsync();
    const events = [...eventsBefore, ...eventsDuring, ...eventsAfter];
    await waitFor(async () => {
      const recorded = await recordedTids();
      return events.every((t) => recorded.has(t));
    }, 60_000);
    const recorded = await recordedTids();
    const stored = await storedPushes();
    const ok = [...answers].filter(([, a]) => a === 200).map(([id]) => id);
    const alive = gateway.child.exitCode === null;

    report('storage locked by another process', {
      pushesBefore: 2,
      pushesDuring: during.length,
      answered503During: during.filter((id) => answers.get(id) === 503).length,
      answered200During: during.filter((id) => answers.get(id) === 200).length,
      pushesAfter: 2,
      answered200After: ['lock-after-1', 'lock-after-2'].filter((id) => answers.get(id) === 200).length,
      answered200Lost: ok.filter((id) => !stored.has(id)).length,
      mqttAcceptedByBroker: events.length,
      mqttRecorded: events.filter((t) => recorded.has(t)).length,
      mqttLost: events.filter((t) => !recorded.has(t)).length,
      healthzDuring: healthDuring,
      readyzDuring: readyDuring,
      lockedForMs,
      processAlive: alive,
    });

    expect(alive).toBe(true);
    expect(during.map((id) => answers.get(id))).toEqual(during.map(() => 503));
    expect(ok.filter((id) => !stored.has(id))).toEqual([]);
    expect(['lock-after-1', 'lock-after-2'].map((id) => answers.get(id))).toEqual([200, 200]);
    expect(events.filter((t) => !recorded.has(t))).toEqual([]);
    gateway.child.kill('SIGTERM');
    expect((await gateway.exited).code).toBe(0);
  }, 240_000);

  test('database files deleted: 503s and /readyz 503, no crash; after a restart the broker hands over what was not stored', async () => {
    const gateway = await start('fault-storage-deleted');
    const dock = await mqtt.connectAsync(broker.url, { clientId: 'fault-storage-dock-2', protocolVersion: 4, reconnectPeriod: 0 });
    const answers = new Map<string, number | 'no answer'>();
    for (const id of ['del-before-1', 'del-before-2']) answers.set(id, await postPush(gateway, id));
    await publishEvents(dock, 'del-before', 10);
    await waitFor(async () => (await recordedTids()).size === 10, 20_000);

    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `gateway.sqlite${suffix}`), { force: true });
    const during = Array.from({ length: 5 }, (_, i) => `del-during-${i}`);
    for (const id of during) answers.set(id, await postPush(gateway, id));
    const eventsDuring = await publishEvents(dock, 'del-during', 30);
    const readyDuring = await readyz(gateway);
    const healthDuring = await healthz(gateway);
    await new Promise((r) => setTimeout(r, 1000));
    const alive = gateway.child.exitCode === null;
    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;

    // The operator restarts it: a fresh database, and the broker's session still holds the events.
    const again = await start('fault-storage-deleted');
    for (const id of during) answers.set(`${id}-retry`, await postPush(again, id));
    await waitFor(async () => {
      const recorded = await recordedTids();
      return eventsDuring.every((t) => recorded.has(t));
    }, 60_000);
    const recorded = await recordedTids();
    const stored = await storedPushes();
    await dock.endAsync();

    report('database files deleted', {
      pushesDuring: during.length,
      answered503During: during.filter((id) => answers.get(id) === 503).length,
      answered200During: during.filter((id) => answers.get(id) === 200).length,
      readyzDuring: readyDuring,
      healthzDuring: healthDuring,
      processAlive: alive,
      exitCodeOnSigterm: String(exit.code),
      mqttAcceptedDuring: eventsDuring.length,
      mqttRecordedAfterRestart: eventsDuring.filter((t) => recorded.has(t)).length,
      mqttLost: eventsDuring.filter((t) => !recorded.has(t)).length,
      retriedPushesStoredAfterRestart: during.filter((id) => stored.has(id)).length,
    });

    expect(alive).toBe(true);
    expect(during.map((id) => answers.get(id))).toEqual(during.map(() => 503));
    expect(readyDuring).toBe(503);
    expect(eventsDuring.filter((t) => !recorded.has(t))).toEqual([]);
    expect(during.filter((id) => !stored.has(id))).toEqual([]);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 240_000);
});
