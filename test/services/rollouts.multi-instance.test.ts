import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { UpgradeSource, UpgradeStatus } from '../../src/domain';
import { DjiCommandSender } from '../../src/ingest/dji/command-sender';
import { Device } from '../../src/inventory/device.entity';
import { systemClock } from '../../src/recorder/clock';
import { Recorder } from '../../src/recorder/recorder';
import { WriteQueue } from '../../src/recorder/write-queue';
import { RolloutStatus } from '../../src/rollouts/domain';
import { RolloutEngine } from '../../src/rollouts/engine';
import { inventoryFleet } from '../../src/rollouts/inventory-fleet';
import { FirmwarePackages } from '../../src/rollouts/packages';
import { RolloutService } from '../../src/rollouts/rollouts';
import { openDatabase, parseDatabaseUrl } from '../../src/store/data-source';
import { eventually } from '../support/gateway';
import { djiEnvelope } from '../support/observations';
import { packageInput } from '../support/rollouts';
import { createTestDatabase, describeWith, type TestDatabase } from './support/services';

jest.setTimeout(120_000);

/** One gateway instance's rollout machinery on a shared PostgreSQL database. */
interface Instance {
  readonly name: string;
  readonly dataSource: DataSource;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly engine: RolloutEngine;
  readonly service: RolloutService;
  readonly packages: FirmwarePackages;
}

/**
 * Two instances share one PostgreSQL database and one fleet: each sends
 * through its own command sender, the docks report back to either instance at
 * random. Together they never have more than maxInProgress in flight (checked
 * at every send), never send one target twice, and finish the rollout.
 */
describeWith(['postgres'])('rollouts on two instances (PostgreSQL)', () => {
  let db: TestDatabase;
  const instances: Instance[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const fleet = {
    inFlight: 0,
    max: 0,
    violations: [] as string[],
    sendsPerDevice: new Map<string, number>(),
    sendsPerInstance: new Map<string, number>(),
    bids: new Set<string>(),
  };
  const CAP = 5;

  /** What a dock does with an ota_create: upgrades for a few ms, then reports `ok` to a random instance. */
  function dockReceives(from: string, topic: string, payload: string): Promise<void> {
    const message = JSON.parse(payload);
    if (fleet.bids.has(message.bid)) return Promise.resolve(); // a resend: already upgrading
    fleet.bids.add(message.bid);
    const devices: string[] = message.data.devices.map((d: { sn: string }) => d.sn);
    for (const sn of devices) fleet.sendsPerDevice.set(sn, (fleet.sendsPerDevice.get(sn) ?? 0) + 1);
    fleet.sendsPerInstance.set(from, (fleet.sendsPerInstance.get(from) ?? 0) + 1);
    fleet.inFlight += devices.length;
    fleet.max = Math.max(fleet.max, fleet.inFlight);
    if (fleet.inFlight > CAP) fleet.violations.push(`${fleet.inFlight} in flight`);
    const gatewaySn = topic.split('/')[2];
    const timer = setTimeout(() => {
      timers.delete(timer);
      fleet.inFlight -= devices.length;
      const to = instances[Math.floor(Math.random() * instances.length)];
      void to.recorder.record(djiEnvelope({ bid: message.bid, gatewaySn, status: UpgradeStatus.SUCCEEDED, percent: 100 }));
    }, 5 + Math.random() * 30);
    timers.add(timer);
    return Promise.resolve();
  }

  async function instance(name: string): Promise<Instance> {
    const dataSource = await openDatabase(parseDatabaseUrl(db.url));
    const queue = new WriteQueue(dataSource);
    const recorder = new Recorder(queue, { publishProgress: () => undefined, publishShadow: () => undefined });
    const logger = pino({ level: 'silent' });
    const sender = new DjiCommandSender({ queue, recorder, publish: (topic, payload) => dockReceives(name, topic, payload), clock: systemClock, logger, replyTimeoutMs: 60_000, sendAttempts: 3 });
    recorder.setReplyCorrelator(sender);
    const engine = new RolloutEngine({ queue, recorder, dispatcher: sender, publishChanged: () => undefined, clock: systemClock, logger, tickMs: 20, retryDelayMs: 50 });
    const service = new RolloutService({ queue, read: dataSource, fleet: inventoryFleet, clock: systemClock, publishChanged: () => undefined, wake: () => engine.wake() });
    return { name, dataSource, queue, recorder, engine, service, packages: new FirmwarePackages(queue, dataSource, systemClock) };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    instances.push(await instance('a'), await instance('b'));
  });
  afterAll(async () => {
    for (const t of timers) clearTimeout(t);
    for (const i of instances) {
      await i.engine.stop();
      await i.queue.whenIdle();
      await i.dataSource.destroy().catch(() => undefined);
    }
    await db?.drop();
  });

  test('together they never exceed maxInProgress and never send one target twice', async () => {
    const [a, b] = instances;
    const N = 60;
    const now = new Date();
    await a.queue.submit(async (tx) => {
      for (let i = 0; i < N; i++) {
        const sn = `PG-DOCK-${String(i).padStart(3, '0')}`;
        await tx.insert(Device, {
          id: randomUUID(), source: UpgradeSource.DJI, deviceId: sn, gatewaySn: sn, model: '3-2-0', modelName: null, firmwareVersion: '1.0', softwareVersion: null,
          consistencyUpgradeNeeded: false, upgrading: false, online: true, lastSeenAt: now, createdAt: now, updatedAt: now,
        } as never);
      }
      return { result: undefined };
    });
    const pkg = await a.packages.register(packageInput('3-2-0', '2.0') as never, null);
    const rollout = await b.service.create({ name: 'two instances', packageIds: [pkg.id], target: { filter: { model: '3-2-0' } }, maxInProgress: CAP, attemptsPerDevice: 1 }, null);
    for (const i of instances) i.engine.run();
    await a.service.command(rollout.id, 'start');
    await eventually(async () => (await a.service.byId(rollout.id))?.status === RolloutStatus.COMPLETED, 90_000, 'the rollout to complete');

    const done = (await b.service.byId(rollout.id))!;
    expect(done).toMatchObject({ total: N, succeeded: N, inProgress: 0, queued: 0, failed: 0 });
    expect(fleet.violations).toEqual([]);
    expect(fleet.max).toBeLessThanOrEqual(CAP);
    expect(fleet.sendsPerDevice.size).toBe(N);
    expect([...fleet.sendsPerDevice.values()].every((n) => n === 1)).toBe(true);
    // Both instances did part of the work.
    expect(fleet.sendsPerInstance.get('a')).toBeGreaterThan(0);
    expect(fleet.sendsPerInstance.get('b')).toBeGreaterThan(0);
    const recount = await db.query<{ status: string; n: string }>(`SELECT status, COUNT(*) AS n FROM rollout_target WHERE rollout_id = $1 GROUP BY status`, [rollout.id]);
    expect(recount.map((r) => [r.status, Number(r.n)])).toEqual([['SUCCEEDED', N]]);
  });
});
