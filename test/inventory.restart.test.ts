/**
 * What a restart means for presence, with the embedded broker: it starts with
 * no connection, so every DJI device the database still holds as online (a
 * crash left it so) is offline until its dock reconnects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Device } from '../src/inventory/device.entity';
import { eventually, startTestGateway, type TestGateway } from './support/gateway';

const DEVICE = `query($id: String!) { device(deviceId: $id) { deviceId online } }`;

test('after a restart DJI devices are offline until their dock reconnects; the write is idempotent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ota-inventory-restart-'));
  let gateway: TestGateway | undefined;
  try {
    gateway = await startTestGateway({}, { dir });
    const online = async (id: string) => (await gateway!.gql<{ device: { online: boolean | null } }>(DEVICE, { id })).body.data!.device?.online;
    const dock = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'RESTARTDOCK', reconnectPeriod: 0 });
    await dock.publishAsync(
      'sys/product/RESTARTDOCK/status',
      JSON.stringify({ tid: 't1', bid: 'b1', method: 'update_topo', data: { domain: 3, type: 2, sub_type: 0, sub_devices: [{ sn: 'RESTARTUAV', domain: 0, type: 91, sub_type: 0 }] } }),
      { qos: 1 },
    );
    await eventually(async () => (await online('RESTARTUAV')) === true, 10_000, 'aircraft online');
    await gateway.stop({ keepDir: true });
    await dock.endAsync(true);
    // As a crash would leave it: the database still says online.
    gateway = undefined;
    const restarted = await startTestGateway({}, { dir });
    gateway = restarted;
    const before = await restarted.dataSource.getRepository(Device).find({ order: { deviceId: 'ASC' } });
    expect(before.map((d) => [d.deviceId, d.online])).toEqual([
      ['RESTARTDOCK', false],
      ['RESTARTUAV', false],
    ]);
    await restarted.dataSource.getRepository(Device).update({ deviceId: 'RESTARTDOCK' }, { online: true });
    await restarted.stop({ keepDir: true });
    gateway = await startTestGateway({}, { dir });
    expect(await online('RESTARTDOCK')).toBe(false);
    const again = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'RESTARTDOCK', reconnectPeriod: 0 });
    await eventually(async () => (await online('RESTARTDOCK')) === true, 10_000, 'dock online after reconnecting');
    expect(await online('RESTARTUAV')).toBe(false);
    await again.endAsync(true);
  } finally {
    await gateway?.stop({ keepDir: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
