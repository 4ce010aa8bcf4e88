import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/gateway';
import { querySqlite, startGatewayProcess, type GatewayProcess } from './support/gateway-process';
import { huaweiGatewayEnv, startPlatform } from './support/huawei-platform';
import { freePort } from './support/mosquitto';
import { rowIdOf } from './support/relay';

jest.setTimeout(240_000);

/**
 * kill -9 between claiming a Huawei wave and the platform's answer: the
 * platform made the task, the gateway never heard. The restarted gateway
 * finds the wave still claimed, looks its task up on the platform after the
 * grace, stores it and links the targets; reconciliation then reads the ends
 * the platform could not push while the gateway was down. Each device is in
 * exactly one platform task, and every one ends SUCCEEDED.
 */
test('kill -9 while the platform creates a wave: after the restart the task is found and stored, no device is sent twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-rollout-huawei-crash-'));
  const db = join(dir, 'gateway.sqlite');
  const platform = await startPlatform({ stepMs: 60 });
  const [port, mqttPort] = [await freePort(), await freePort()];
  const huawei = huaweiGatewayEnv(dir, platform, port);
  const start = () =>
    startGatewayProcess({
      dir,
      mqttUrl: null,
      clientId: 'rollout-huawei-crash-gateway',
      port,
      env: {
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: String(mqttPort),
        LOG_LEVEL: 'warn',
        ROLLOUT_TICK_MS: '100',
        ROLLOUT_RETRY_DELAY_MS: '200',
        ROLLOUT_HUAWEI_WAVE_GRACE_MS: '1000',
        ...huawei,
        HUAWEI_RECONCILE_INTERVAL_MS: '1000',
      },
    });
  let gateway: GatewayProcess = await start();
  const devices = ['HWC-0', 'HWC-1', 'HWC-2', 'HWC-3'];
  try {
    await eventually(() => platform.subscriptions.size === 4, 30_000, 'callback registration');
    // The devices reach the inventory as Huawei devices do: through the pushes of an upgrade (to 2.0.0).
    const first = await gateway.gql(`mutation ($input: CreateHuaweiUpgradeInput!) { createHuaweiUpgrade(input: $input) { id } }`, {
      input: { kind: 'FIRMWARE', fileId: 'fw-2.0.0', deviceIds: devices },
    });
    expect(first.errors).toBeUndefined();
    await eventually(
      async () =>
        (await gateway.gql<{ devices: { edges: { node: { firmwareVersion: string | null } }[] } }>(`{ devices(first: 10, filter: { deviceIdPrefix: "HWC-" }) { edges { node { firmwareVersion } } } }`))
          .data?.devices.edges.filter((e) => e.node.firmwareVersion === '2.0.0').length === devices.length,
      30_000,
      'the devices in the inventory',
    );
    const before = platform.operationDevices.length;

    const pkg = await gateway.gql<{ registerFirmwarePackage: { id: string } }>(
      `mutation ($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { id } }`,
      { input: { source: 'HUAWEI', model: 'HWC', version: '3.0.0', fileId: 'fw-3.0.0', kind: 'FIRMWARE' } },
    );
    const created = await gateway.gql<{ createRollout: { id: string } }>(`mutation ($input: CreateRolloutInput!) { createRollout(input: $input) { id } }`, {
      input: { name: 'huawei crash', packageIds: [pkg.data!.registerFirmwarePackage.id], target: { deviceIds: devices }, maxInProgress: 2, attemptsPerDevice: 1 },
    });
    const id = created.data!.createRollout.id;
    // The first wave's task is made on the platform; its answer never leaves: the gateway dies meanwhile.
    let killed: Promise<unknown> | null = null;
    platform.holdCreateAnswers(1, () => (killed ??= gateway.kill('SIGKILL')));
    await gateway.gql(`mutation ($id: ID!) { startRollout(id: $id) { id } }`, { id });
    await eventually(() => killed !== null, 30_000, 'the first wave to reach the platform');
    await killed;
    const claimed = await querySqlite<{ n: number }>(db, `SELECT COUNT(*) AS n FROM rollout_target WHERE rollout_id = ? AND wave_id IS NOT NULL AND sub_task_id IS NULL`, [rowIdOf(id)]);
    expect(claimed[0].n).toBe(2);

    gateway = await start();
    const status = async () =>
      (await gateway.gql<{ rollout: { status: string; counts: { succeeded: number } } }>(`query ($id: ID!) { rollout(id: $id) { status counts { succeeded } } }`, { id })).data!.rollout;
    await eventually(async () => (await status()).status === 'COMPLETED', 120_000, 'the rollout to complete after the restart');
    expect((await status()).counts.succeeded).toBe(devices.length);

    // Each device in exactly one task of the rollout; every target linked, one attempt each.
    const waves = platform.operationDevices.slice(before);
    expect(waves.every((w) => w.deviceIds.length <= 2)).toBe(true);
    expect(waves.flatMap((w) => w.deviceIds).sort()).toEqual(devices);
    const targets = await querySqlite<{ status: string; attempts: number; wave_id: string | null; sub_task_id: string | null }>(
      db,
      `SELECT status, attempts, wave_id, sub_task_id FROM rollout_target WHERE rollout_id = ?`,
      [rowIdOf(id)],
    );
    expect(targets.every((t) => t.status === 'SUCCEEDED' && t.attempts === 1 && t.wave_id === null && t.sub_task_id !== null)).toBe(true);
  } finally {
    await gateway.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
