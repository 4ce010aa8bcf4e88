import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDock, type DockSimulator } from '../src/simulators/dji-dock';
import { silentOutput } from '../src/simulators/output';
import { eventually } from './support/gateway';
import { querySqlite, startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { freePort } from './support/mosquitto';
import { rowIdOf } from './support/relay';
import { packageInput } from './support/rollouts';

jest.setTimeout(300_000);

/**
 * kill -9 in the middle of a rollout: the engine's state is in the database,
 * so the restarted gateway goes on where it stopped. No device gets a second
 * upgrade (each dock runs exactly one, and one command is stored per device),
 * none is forgotten (all end SUCCEEDED), and the counts equal a recount.
 */
test('kill -9 mid-rollout: it continues after the restart, nothing sent twice, nothing forgotten', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-rollout-crash-'));
  const db = join(dir, 'gateway.sqlite');
  const [port, mqttPort] = [await freePort(), await freePort()];
  const start = () =>
    startGatewayProcess({
      dir,
      mqttUrl: null,
      clientId: 'rollout-crash-gateway',
      port,
      env: { MQTT_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), LOG_LEVEL: 'warn', ROLLOUT_TICK_MS: '100', ROLLOUT_RETRY_DELAY_MS: '200' },
    });
  let gateway: GatewayProcess = await start();
  const N = 16;
  const ids = Array.from({ length: N }, (_, i) => `CRASH${String(i).padStart(3, '0')}`);
  const docks: DockSimulator[] = await Promise.all(
    ids.map((sn) => startDock({ gatewaySn: sn, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, intervalMs: 40, output: silentOutput, dockModel: '3-2-0', firmwareVersion: '1.0', aircraft: null })),
  );
  try {
    // The docks announce themselves: the inventory the rollout picks from.
    await eventually(
      async () => (await gateway.gql<{ devices: { totalCount: number } }>(`{ devices(filter: { deviceIdPrefix: "CRASH", firmwareVersion: "1.0" }) { totalCount } }`)).data?.devices.totalCount === N,
      60_000,
      'the docks in the inventory',
    );
    const pkg = await gateway.gql<{ registerFirmwarePackage: { id: string } }>(
      `mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`,
      { input: packageInput('3-2-0', '2.0') },
    );
    const created = await gateway.gql<{ createRollout: { id: string } }>(
      `mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`,
      { input: { name: 'crash', packageIds: [pkg.data!.registerFirmwarePackage.id], target: { filter: { deviceIdPrefix: 'CRASH' } }, maxInProgress: 4, attemptsPerDevice: 1 } },
    );
    const id = created.data!.createRollout.id;
    const counts = async () =>
      (await gateway.gql<{ rollout: { status: string; counts: { succeeded: number; inProgress: number; queued: number } } }>(`query ($id: ID!) { rollout(id: $id) { status counts { succeeded inProgress queued } } }`, { id })).data!
        .rollout;
    await gateway.gql(`mutation ($id: ID!) { startRollout(id: $id) { id } }`, { id });
    await eventually(async () => {
      const c = (await counts()).counts;
      return c.succeeded >= 3 && c.inProgress > 0 && c.queued > 0;
    }, 120_000, 'a rollout under way');
    await gateway.kill('SIGKILL');

    gateway = await start();
    await eventually(async () => (await counts()).status === 'COMPLETED', 180_000, 'the rollout to complete after the restart');
    expect((await counts()).counts).toMatchObject({ succeeded: N, inProgress: 0, queued: 0 });

    // One command, one sub-task per device: no target was sent twice.
    const commands = await querySqlite<{ gateway_sn: string; n: number }>(db, `SELECT gateway_sn, COUNT(*) AS n FROM outbound_command GROUP BY gateway_sn`);
    expect(commands).toHaveLength(N);
    expect(commands.every((c) => c.n === 1)).toBe(true);
    const targets = await querySqlite<{ status: string; attempts: number }>(db, `SELECT status, attempts FROM rollout_target WHERE rollout_id = ?`, [rowIdOf(id)]);
    expect(targets.every((t) => t.status === 'SUCCEEDED' && t.attempts === 1)).toBe(true);
    const row = await querySqlite<{ succeeded: number; in_progress: number; queued: number; total: number }>(db, `SELECT succeeded, in_progress, queued, total FROM rollout WHERE id = ?`, [rowIdOf(id)]);
    expect(row[0]).toEqual({ succeeded: N, in_progress: 0, queued: 0, total: N });
    // Each dock ran exactly one upgrade (a resent ota_create of the same bid starts nothing).
    await eventually(() => docks.every((d) => d.upgrades.length >= 1), 60_000, 'every dock to finish its upgrade');
    for (const dock of docks) {
      const runs = dock.upgrades.filter((u) => u.outcome !== 'interrupted');
      expect([dock.gatewaySn, new Set(dock.upgrades.map((u) => u.bid)).size]).toEqual([dock.gatewaySn, 1]);
      expect(runs.every((u) => u.outcome === 'ok')).toBe(true);
    }
  } finally {
    await Promise.all(docks.map((d) => d.close()));
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
