import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sqlite3 from 'sqlite3';
import { openDatabase } from '../../src/store/data-source';
import { explainFailure, startGatewayProcess, tempDir } from '../lib/gateway';
import { graphql, keepAliveAgent } from '../lib/http';
import { until } from '../lib/proc';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';

export interface RolloutBenchResult {
  readonly docks: number;
  readonly maxInProgress: number;
  readonly upgradeMs: number;
  /** Mean devices in flight over the steady part (from the cap first reached to the last send), as the docks saw them. */
  readonly meanInFlight: number;
  /** Fewest in flight during the steady part. */
  readonly minInFlight: number;
  /** Most in flight at any moment (must not pass the cap). */
  readonly maxInFlight: number;
  /** From a device's last report (it finished) to the next ota_create a dock received, ms. */
  readonly finishToNextStartMs: Distribution;
  /** From startRollout to the rollout COMPLETED. */
  readonly seconds: number;
}

const MODEL = '3-2-0';

/** Docks connecting at once. */
const CONNECT_WAVE = 50;

const dockSn = (i: number) => `BENCH-DOCK-${String(i).padStart(5, '0')}`;

/**
 * The rollout scenario: `docks` simulated docks (one light MQTT client each,
 * connected as its dock: every ota_create is accepted and ends `ok` after `upgradeMs`),
 * a rollout over all of them with `maxInProgress`. Measures how full the
 * engine keeps the pipe and how long a free slot stays empty.
 */
export async function rolloutBench(ctx: ScenarioContext): Promise<RolloutBenchResult> {
  const docks = ctx.options.docks;
  const cap = ctx.options.cap;
  const upgradeMs = ctx.options.upgrade;
  const dir = tempDir('rollout');
  const path = join(dir, 'bench.sqlite');
  ctx.log(`rollout: seeding ${docks} docks into the inventory`);
  await seedDocks(path, docks);
  // Every simulated dock connects from loopback: room for all of them under the per-address limit.
  const gw = await startGatewayProcess({ dir, label: 'rollout', cpuProfileDir: ctx.profileDir ?? undefined, env: { MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(docks + 50) } });
  const agent = keepAliveAgent(2);
  // One MQTT client per dock, connected as it (the broker lets a client speak only for its own dock).
  const sns = Array.from({ length: docks }, (_, i) => dockSn(i));
  const clients: mqtt.MqttClient[] = [];
  try {
    return await explainFailure(gw, async () => {
      for (let i = 0; i < sns.length; i += CONNECT_WAVE) {
        clients.push(
          ...(await Promise.all(
            sns.slice(i, i + CONNECT_WAVE).map(async (sn) => {
              const client = await mqtt.connectAsync(gw.mqttUrl, { clientId: sn, clean: true, reconnectPeriod: 0 });
              await client.subscribeAsync(`thing/product/${sn}/services`, { qos: 1 });
              return client;
            }),
          )),
        );
      }
      const seen = new Set<string>();
      let inFlight = 0;
      let maxInFlight = 0;
      let steadySince: number | null = null;
      let lastSend = 0;
      let minInFlight = Infinity;
      let area = 0;
      /** The area up to the last ota_create: the mean is over the time devices were queued, the drain after it is not. */
      let areaAtLastSend = 0;
      let lastChange = 0;
      const finishes: number[] = [];
      const gaps: number[] = [];
      let sends = 0;
      const change = (delta: number) => {
        const now = performance.now();
        if (steadySince !== null) area += inFlight * (now - lastChange);
        lastChange = now;
        inFlight += delta;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (steadySince === null && inFlight >= cap) steadySince = now;
      };
      const answer = (client: mqtt.MqttClient, topic: string, payload: Buffer) => {
        const message = JSON.parse(payload.toString());
        if (message.method !== 'ota_create' || seen.has(message.bid)) return;
        seen.add(message.bid);
        const now = performance.now();
        const finished = finishes.shift();
        if (finished !== undefined) gaps.push(now - finished);
        sends++;
        lastSend = now;
        if (steadySince !== null && sends < docks) minInFlight = Math.min(minInFlight, inFlight);
        const n = message.data.devices.length;
        change(n);
        areaAtLastSend = area;
        const sn = topic.split('/')[2];
        const reply = { tid: message.tid, bid: message.bid, timestamp: Date.now(), method: 'ota_create', data: { result: 0, output: { status: 'in_progress' } } };
        void client.publishAsync(`thing/product/${sn}/services_reply`, JSON.stringify(reply), { qos: 1 });
        setTimeout(() => {
          const done = {
            tid: randomUUID(),
            bid: message.bid,
            timestamp: Date.now(),
            method: 'ota_progress',
            need_reply: 0,
            data: { result: 0, output: { status: 'ok', progress: { percent: 100, current_step: 'upgrade_firmware' } } },
          };
          // The device has finished once it says so; the slot is free from here.
          finishes.push(performance.now());
          change(-n);
          void client.publishAsync(`thing/product/${sn}/events`, JSON.stringify(done), { qos: 1 });
        }, upgradeMs);
      };
      for (const client of clients) client.on('message', (topic, payload) => answer(client, topic, payload));

      const pkg = await graphql<{ registerFirmwarePackage: { id: string } }>(agent, gw.port, REGISTER, {
        input: { model: MODEL, version: '2.0', fileUrl: 'https://fw.example/dock2.zip', md5: 'e4d909c290d0fb1ca068ffaddf22cbd0', fileSize: 1_000_000, fileName: 'dock2.zip', firmwareUpgradeType: 'REGULAR' },
      });
      const created = await graphql<{ createRollout: { id: string; counts: { queued: number } } }>(agent, gw.port, CREATE, {
        input: { name: 'bench', packageIds: [pkg.data.registerFirmwarePackage.id], target: { filter: { model: MODEL } }, maxInProgress: cap, attemptsPerDevice: 1 },
      });
      const id = created.data.createRollout.id;
      if (created.data.createRollout.counts.queued !== docks) throw new Error(`rollout queued ${created.data.createRollout.counts.queued} of ${docks} docks`);
      ctx.log(`rollout: ${docks} docks, maxInProgress ${cap}, each upgrade ${upgradeMs} ms`);
      const started = performance.now();
      await graphql(agent, gw.port, `mutation ($id: ID!) { startRollout(id: $id) { id } }`, { id });
      await until(
        async () => (await graphql<{ rollout: { status: string } }>(agent, gw.port, `query ($id: ID!) { rollout(id: $id) { status } }`, { id })).data.rollout.status === 'COMPLETED',
        Math.max(60_000, (docks / cap) * upgradeMs * 20),
        'the rollout to complete',
        100,
      );
      const seconds = (performance.now() - started) / 1000;
      const steadyMs = steadySince === null ? 0 : lastSend - steadySince;
      return {
        docks,
        maxInProgress: cap,
        upgradeMs,
        meanInFlight: steadyMs > 0 ? areaAtLastSend / steadyMs : NaN,
        minInFlight: Number.isFinite(minInFlight) ? minInFlight : NaN,
        maxInFlight,
        finishToNextStartMs: distribution(gaps),
        seconds,
      };
    });
  } finally {
    agent.destroy();
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await gw.stop();
  }
}

const REGISTER = `mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`;
const CREATE = `mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id counts { queued } } }`;

/** Creates the schema (the gateway's migrations) and puts `n` docks of one model into the inventory. */
async function seedDocks(path: string, n: number): Promise<void> {
  await (await openDatabase({ engine: 'sqlite', path })).destroy();
  const db = new sqlite3.Database(path);
  const run = (sql: string, params: unknown[] = []) => new Promise<void>((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  try {
    await run('BEGIN');
    for (let i = 0; i < n; i++) {
      const sn = dockSn(i);
      await run(
        `INSERT INTO device (id, source, device_id, gateway_sn, model, firmware_version, upgrading, online, last_seen_at, created_at, updated_at)
         VALUES (?, 'DJI', ?, ?, ?, '1.0', 0, 1, ?, ?, ?)`,
        [randomUUID(), sn, sn, MODEL, now, now, now],
      );
    }
    await run('COMMIT');
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}
