import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { eventually } from './support/gateway';
import { querySqlite, startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { freePort } from './support/mosquitto';

/**
 * kill -9 with the embedded broker: the broker dies with the gateway, so the
 * only copy of a message the gateway has not stored is the dock's. The dock
 * must therefore not have had a PUBACK for it, and sends it again once the
 * gateway is back.
 */
test('embedded broker, kill -9 mid-stream: every message a dock had acknowledged is stored, the rest arrives after the restart, each recorded once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-crash-embedded-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  const start = () =>
    startGatewayProcess({
      dir,
      mqttUrl: null,
      clientId: 'crash-embedded-gateway',
      port,
      env: { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), LOG_LEVEL: 'warn' },
    });
  let gateway: GatewayProcess = await start();
  const dock = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'crash-dock', username: 'DOCK-CRASH', protocolVersion: 4, reconnectPeriod: 100 });
  try {
    const total = 1500;
    const acknowledged = new Set<number>();
    for (let i = 0; i < total; i++) {
      const payload = { tid: `crash-tid-${i}`, bid: `crash-bid-${i % 10}`, timestamp: 1_700_000_000_000 + i, method: 'ota_progress', data: { result: 0, output: { status: 'in_progress', progress: { percent: i % 100 } } } };
      // MQTT.js keeps what is not acknowledged and sends it again after reconnecting.
      dock.publish('thing/product/DOCK-CRASH/events', JSON.stringify(payload), { qos: 1 }, (error) => {
        if (!error) acknowledged.add(i);
      });
    }
    await eventually(() => acknowledged.size >= 300, 20_000, 'a first part acknowledged');
    await gateway.kill('SIGKILL');
    const acknowledgedBeforeKill = new Set(acknowledged);
    expect(acknowledgedBeforeKill.size).toBeLessThan(total);

    gateway = await start();
    await eventually(() => acknowledged.size === total, 30_000, 'every message acknowledged after the restart');

    const rows = await querySqlite<{ tid: string; outcome: string }>(
      join(dir, 'gateway.sqlite'),
      `SELECT json_extract(payload, '$.tid') AS tid, outcome FROM inbound_message WHERE channel = 'ota_progress'`,
    );
    const recorded = rows.filter((r) => r.outcome === 'RECORDED').map((r) => r.tid);
    expect(new Set(recorded).size).toBe(recorded.length); // none recorded twice
    expect(recorded).toHaveLength(total); // none lost
    const stored = new Set(recorded);
    expect([...acknowledgedBeforeKill].filter((i) => !stored.has(`crash-tid-${i}`))).toEqual([]);
    const events = await querySqlite<{ n: number }>(join(dir, 'gateway.sqlite'), 'SELECT count(*) AS n FROM progress_event');
    expect(events[0].n).toBe(total);
  } finally {
    await dock.endAsync(true);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
