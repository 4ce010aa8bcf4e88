import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { HUAWEI_CALLBACK_PATH } from '../src/ingest/huawei/webhook.plugin';
import { SqliteFileGuard, StorageUnavailableError } from '../src/maintenance';
import { openDatabase } from '../src/store/data-source';
import { InboundMessage } from '../src/store/entities';
import { eventually, startTestGateway } from './support/gateway';

function push(url: string, operationId: string) {
  return fetch(`${url}${HUAWEI_CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ notifyType: 'fwUpgradeStateChangeNotify', deviceId: 'dev-1', appId: 'app', operationId, subOperationId: 'sub', step: '1', stepDesc: 'downloading' }),
  });
}

const progress = (tid: string) =>
  JSON.stringify({ tid, bid: 'bid-storage', timestamp: Date.now(), method: 'ota_progress', data: { result: 0, output: { status: 'in_progress', progress: { percent: 1 } } } });

test('the SQLite guard notices the database file or its WAL removed, moved or replaced, and is content when it comes back', async () => {
  const gateway = await startTestGateway();
  try {
    const path = join(gateway.dir, 'gateway.sqlite');
    const guard = new SqliteFileGuard(path);
    expect(guard.intact()).toBe(true);
    renameSync(path, `${path}.moved`);
    expect(() => guard.check()).toThrow(StorageUnavailableError);
    expect(() => guard.check()).toThrow(/removed while open/);
    renameSync(`${path}.moved`, path);
    expect(guard.intact()).toBe(true);
    renameSync(`${path}-wal`, `${path}-wal.moved`);
    expect(guard.intact()).toBe(false);
    renameSync(`${path}-wal.moved`, `${path}-wal`);
    expect(guard.intact()).toBe(true);
    expect(() => new SqliteFileGuard(join(gateway.dir, 'nothing.sqlite'))).toThrow(/not found/);
  } finally {
    await gateway.stop();
  }
});

test('with its database file moved away: pushes get 503, MQTT messages are not acknowledged, /readyz says so, nothing crashes; all resumes when it is back, and nothing answered is lost', async () => {
  const gateway = await startTestGateway();
  // A dock reconnects and sends again what was not acknowledged, as MQTT clients do.
  const dock = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'storage-dock', username: 'DOCK-ST', protocolVersion: 4, reconnectPeriod: 200 });
  const path = join(gateway.dir, 'gateway.sqlite');
  const answered: Record<string, number> = {};
  try {
    for (const id of ['before-1', 'before-2']) answered[id] = (await push(gateway.url, id)).status;

    renameSync(path, `${path}.moved`);
    for (const id of ['during-1', 'during-2', 'during-3']) {
      const response = await push(gateway.url, id);
      answered[id] = response.status;
      if (response.status === 503) expect(response.headers.get('retry-after')).toBe('5');
    }
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: false } });
    // Published now: the embedded broker does not acknowledge what the gateway cannot store, so the dock keeps it.
    let acknowledged = false;
    const published = dock.publishAsync('thing/product/DOCK-ST/events', progress('tid-during-outage'), { qos: 1 }).then(() => (acknowledged = true));
    await eventually(async () => (await fetch(`${gateway.url}/healthz`)).ok, 5000, 'the process still serving');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(acknowledged).toBe(false);

    renameSync(`${path}.moved`, path);
    await eventually(async () => (await fetch(`${gateway.url}/readyz`)).status === 200, 10_000, 'ready again');
    for (const id of ['after-1', 'after-2']) answered[id] = (await push(gateway.url, id)).status;

    expect(answered).toEqual({ 'before-1': 200, 'before-2': 200, 'during-1': 503, 'during-2': 503, 'during-3': 503, 'after-1': 200, 'after-2': 200 });
    await published;
    const ledger = gateway.dataSource.getRepository(InboundMessage);
    await eventually(async () => (await ledger.countBy({ channel: 'ota_progress' })) === 1, 20_000, 'the MQTT message redelivered and stored');
  } finally {
    await dock.endAsync(true);
    await gateway.stop({ keepDir: true });
  }

  // After a restart, exactly what was answered 200 is there.
  const ds = await openDatabase({ engine: 'sqlite', path });
  try {
    const rows = await ds.getRepository(InboundMessage).find({ where: { channel: 'fwUpgradeStateChangeNotify' } });
    const stored = rows.map((r) => JSON.parse(r.payload).operationId).sort();
    const ok = Object.entries(answered).filter(([, status]) => status === 200).map(([id]) => id).sort();
    expect(stored).toEqual(ok);
    expect(await ds.getRepository(InboundMessage).countBy({ channel: 'ota_progress' })).toBe(1);
  } finally {
    await ds.destroy();
    rmSync(gateway.dir, { recursive: true, force: true });
  }
});
