import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { EMPTY_TALLY, UpgradeKind, UpgradeSource, UpgradeStatus } from '../src/domain';
import { Device, newDeviceRow } from '../src/inventory/device.entity';
import { writeRows } from '../src/store/bulk-write';
import { openDatabase } from '../src/store/data-source';
import { InboundMessage, InboundOutcome, UpgradeSubTask, UpgradeTask, newSubTask, storeTally } from '../src/store/entities';
import { marks, selectRows } from '../src/store/row-reads';

let dir: string;
let dataSource: DataSource;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-row-reads-'));
  dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'gateway.sqlite') });
});

afterEach(async () => {
  await dataSource.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const at = new Date('2026-11-26T08:00:00.123Z');

function task(n: number): UpgradeTask {
  const row = Object.assign(new UpgradeTask(), {
    id: `c0d5a7a2-8f7e-4d55-9b9b-00000000000${n}`,
    source: n % 2 === 0 ? UpgradeSource.DJI : UpgradeSource.HUAWEI,
    kind: UpgradeKind.FIRMWARE,
    externalId: `bid-${n}`,
    appId: n % 2 === 0 ? null : 'app-1',
    gatewaySn: n % 2 === 0 ? `DOCK-${n}` : null,
    status: UpgradeStatus.IN_PROGRESS,
    progress: n * 10,
    createdAt: at,
    updatedAt: new Date(at.getTime() + n),
  });
  storeTally(row, EMPTY_TALLY);
  return row;
}

test('the rows it reads are the entities TypeORM find returns: every column type, nulls included', async () => {
  const tasks = [task(1), task(2)];
  const subTasks = tasks.flatMap((t, i) => [
    Object.assign(newSubTask(t.id, `dev-${i}-a`, at), { percent: 40, fileSize: 2 ** 40 + 1, closedByStaleSweep: true, lastOccurredAt: at }),
    newSubTask(t.id, `dev-${i}-b`, at, { externalId: 'ext-1' }),
  ]);
  const devices = [
    Object.assign(newDeviceRow({ source: UpgradeSource.DJI, deviceId: 'DOCK-2' } as never, at), { online: true, consistencyUpgradeNeeded: null, upgrading: false, lastSeenAt: at }),
    Object.assign(newDeviceRow({ source: UpgradeSource.DJI, deviceId: 'M3-1' } as never, at), { online: false, consistencyUpgradeNeeded: true, upgrading: true, lastSeenAt: at, gatewaySn: 'DOCK-2', firmwareVersion: '1.2.3' }),
  ];
  const ledger = Object.assign(new InboundMessage(), {
    source: UpgradeSource.DJI, channel: 'events', dedupeKey: 'k-1', payload: '{"a":1}', outcome: InboundOutcome.RECORDED, reason: null, receivedAt: at,
  });
  await dataSource.transaction(async (tx) => {
    await writeRows(tx, UpgradeTask, tasks);
    await writeRows(tx, UpgradeSubTask, subTasks);
    await writeRows(tx, Device, devices);
    await writeRows(tx, InboundMessage, [ledger]);
  });
  const tx = dataSource.manager;

  const subTasksRead = await selectRows(tx, UpgradeSubTask, {
    alias: 's',
    joins: 'INNER JOIN upgrade_task t ON t.id = s.task_id',
    where: `t.external_id IN (${marks(2)}) ORDER BY s.device_id`,
    parameters: ['bid-1', 'bid-2'],
  });
  expect(subTasksRead).toEqual(await tx.find(UpgradeSubTask, { order: { deviceId: 'ASC' } }));
  expect(subTasksRead[0]).toBeInstanceOf(UpgradeSubTask);
  expect(subTasksRead[0].fileSize).toBe(2 ** 40 + 1);
  expect(subTasksRead[0].closedByStaleSweep).toBe(true);
  expect(subTasksRead[0].lastOccurredAt).toEqual(at);

  const tasksRead = await selectRows(tx, UpgradeTask, { alias: 't', where: `t.external_id IN (${marks(2)}) ORDER BY t.external_id`, parameters: ['bid-1', 'bid-2'] });
  expect(tasksRead).toEqual(await tx.find(UpgradeTask, { order: { externalId: 'ASC' } }));

  const devicesRead = await selectRows(tx, Device, { alias: 'd', where: `d.source = ? AND d.device_id IN (${marks(2)}) ORDER BY d.device_id`, parameters: [UpgradeSource.DJI, 'DOCK-2', 'M3-1'] });
  expect(devicesRead).toEqual(await tx.find(Device, { order: { deviceId: 'ASC' } }));
  expect(devicesRead.map((d) => [d.online, d.consistencyUpgradeNeeded, d.upgrading])).toEqual([[true, null, false], [false, true, true]]);

  // A selection leaves the other columns unset, as find's `select` does.
  const held = await selectRows(tx, InboundMessage, { alias: 'm', where: 'm.dedupe_key IN (?)', parameters: ['k-1'], select: ['id', 'dedupeKey'] });
  expect(held).toEqual(await tx.find(InboundMessage, { where: { dedupeKey: 'k-1' }, select: { id: true, dedupeKey: true } }));
  expect(held[0].payload).toBeUndefined();

  expect(await selectRows(tx, UpgradeTask, { alias: 't', where: 't.external_id IN (?)', parameters: ['none'] })).toEqual([]);
});
