import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ShadowStatus, UpgradeSource, UpgradeStatus, deriveTaskProgress, deriveTaskStatus, tallyOf, type InboundEnvelope } from '../../src/domain';
import type { EventBus, UpgradeProgressMessage } from '../../src/recorder/event-bus';
import { Recorder } from '../../src/recorder/recorder';
import { WriteQueue } from '../../src/recorder/write-queue';
import { openDatabase, parseDatabaseUrl } from '../../src/store/data-source';
import { InboundOutcome, UpgradeSubTask, UpgradeTask, tallyOfTask, type ShadowEvent } from '../../src/store/entities';
import { ReadStore } from '../../src/store/read-store';
import { selectRows } from '../../src/store/row-reads';
import { djiEnvelope, huaweiEnvelope } from '../support/observations';
import { createTestDatabase, describeWith, type TestDatabase } from './support/services';

/** A recorder over its own data source and writer: one gateway instance's write path. */
interface Instance {
  readonly dataSource: DataSource;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  readonly store: ReadStore;
  readonly published: UpgradeProgressMessage[];
  readonly shadows: ShadowEvent[];
}

async function instance(url: string): Promise<Instance> {
  const dataSource = await openDatabase(parseDatabaseUrl(url));
  const queue = new WriteQueue(dataSource);
  const published: UpgradeProgressMessage[] = [];
  const shadows: ShadowEvent[] = [];
  const bus: EventBus = { publishProgress: (m) => published.push(m), publishShadow: (e) => shadows.push(e) };
  return { dataSource, queue, recorder: new Recorder(queue, bus), store: new ReadStore(dataSource), published, shadows };
}

function shadowEnvelope(deviceId: string, properties: Record<string, unknown>): InboundEnvelope {
  const observation = {
    type: 'shadow' as const,
    source: UpgradeSource.HUAWEI,
    deviceId,
    serviceId: 'svc',
    properties,
    status: ShadowStatus.DELIVERED,
  };
  return {
    source: UpgradeSource.HUAWEI,
    channel: 'deviceDesiredPropertiesModifyNotify',
    dedupeKey: randomUUID(),
    raw: JSON.stringify(observation),
    receivedAt: new Date(),
    content: { kind: 'observation', observation },
  };
}

/** Resolves once some session of this database waits for a lock (a row, a key, an advisory lock). */
async function someoneWaitsForALock(db: TestDatabase): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [db.name],
    );
    if (Number(rows[0].n) > 0) return;
    if (Date.now() > deadline) throw new Error('nobody waited for a lock');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Holds the writer of `inst` inside an open batch transaction until the returned release is called. */
function holdBatchOpen(inst: Instance): { release: () => void; done: Promise<unknown> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const done = inst.queue.submit(async () => {
    await gate;
    return { result: null };
  });
  return { release, done };
}

describeWith(['postgres'])('PostgreSQL store', () => {
  let db: TestDatabase;
  const open: Instance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const i of open) await i.dataSource.destroy().catch(() => undefined);
    await db?.drop();
  });

  test('instances starting together run the migrations once', async () => {
    const started = await Promise.allSettled([1, 2, 3, 4].map(() => instance(db.url)));
    for (const s of started) if (s.status === 'fulfilled') open.push(s.value);
    expect(started.filter((s) => s.status === 'rejected')).toEqual([]);
    const runs = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(runs.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  test('a session left idle inside a transaction is ended by the server (it would hold the writer lock)', async () => {
    const [a] = open;
    const [row] = await a.dataSource.query('SHOW idle_in_transaction_session_timeout');
    expect(row.idle_in_transaction_session_timeout).toBe('30s');
  });

  test('the schema uses jsonb, timestamptz, bigint and boolean', async () => {
    const columns = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND (table_name, column_name) IN
          (('shadow_event', 'properties'), ('upgrade_task', 'created_at'), ('upgrade_sub_task', 'file_size'),
           ('upgrade_sub_task', 'closed_by_stale_sweep'), ('progress_event', 'applied'), ('progress_event', 'occurred_at'))`,
    );
    const type = (t: string, c: string) => columns.find((r) => r.table_name === t && r.column_name === c)?.data_type;
    expect(type('shadow_event', 'properties')).toBe('jsonb');
    expect(type('upgrade_task', 'created_at')).toBe('timestamp with time zone');
    expect(type('progress_event', 'occurred_at')).toBe('timestamp with time zone');
    expect(type('upgrade_sub_task', 'file_size')).toBe('bigint');
    expect(type('upgrade_sub_task', 'closed_by_stale_sweep')).toBe('boolean');
    expect(type('progress_event', 'applied')).toBe('boolean');
  });

  test('JSON properties, bigint sizes, dates and booleans read back as written', async () => {
    const [a] = open;
    const properties = { 'key with spaces': 'v', nested: { list: [1, 'two', null, true], deep: { x: 1.5 } }, 'ü-ñ': '✓' };
    const result = await a.recorder.record(shadowEnvelope('shadow-dev', properties));
    expect(result.outcome).toBe(InboundOutcome.RECORDED);
    const page = await a.store.listShadowEvents('shadow-dev', 10, null);
    expect(page.rows[0].properties).toEqual(properties);
    expect(page.rows[0].receivedAt).toBeInstanceOf(Date);
    // Stored as a JSON object (queryable), not as a JSON string.
    const [raw] = await db.query<{ t: string }>(`SELECT jsonb_typeof(properties) AS t FROM shadow_event WHERE device_id = 'shadow-dev'`);
    expect(raw.t).toBe('object');

    const at = new Date('2026-11-21T10:00:00.123Z');
    const taskId = randomUUID();
    await a.dataSource.getRepository(UpgradeTask).insert({
      id: taskId, source: UpgradeSource.DJI, kind: 'FIRMWARE' as never, externalId: `bid-${taskId}`, appId: null,
      gatewaySn: 'DOCK-RT', status: UpgradeStatus.SENT, progress: null, createdAt: at, updatedAt: at,
    });
    const sizes = [653467234, 2 ** 40 + 1, Number.MAX_SAFE_INTEGER];
    for (const [i, fileSize] of sizes.entries()) {
      await a.dataSource.getRepository(UpgradeSubTask).insert({
        id: randomUUID(), taskId, deviceId: `dev-${i}`, externalId: null, status: UpgradeStatus.SENT, vendorStatus: null,
        subStatus: null, step: null, percent: null, sourceVersion: null, currentVersion: null, targetVersion: null,
        statusDesc: null, errorCode: null, upgradeTime: null, fileName: 'fw.zip', fileUrl: 'https://x/fw.zip', fileSize,
        md5: '9e107d9d372bb6826bd81d3542a419d6', firmwareUpgradeType: null, lastOccurredAt: null, lastObservedAt: at,
        closedByStaleSweep: i === 1, createdAt: at, updatedAt: at,
      });
    }
    const rows = await a.store.subTasksOfTasks([taskId]);
    expect(rows.map((r) => r.fileSize).sort((x, y) => x! - y!)).toEqual(sizes);
    expect(rows.map((r) => typeof r.fileSize)).toEqual(['number', 'number', 'number']);
    expect(rows.map((r) => r.closedByStaleSweep).sort()).toEqual([false, false, true]);
    expect(rows[0].createdAt).toEqual(at);
    expect(rows[0].lastOccurredAt).toBeNull();
    // The writer's own reads (selectRows) give the very entities TypeORM's find gives.
    const viaFind = await a.dataSource.manager.find(UpgradeSubTask, { where: { taskId }, order: { deviceId: 'ASC' } });
    const viaSelect = await selectRows(a.dataSource.manager, UpgradeSubTask, { alias: 's', where: 's.task_id = ? ORDER BY s.device_id', parameters: [taskId] });
    expect(viaSelect).toEqual(viaFind);
    expect(viaSelect[0]).toBeInstanceOf(UpgradeSubTask);
  });

  test('dedupe, ordering, terminal stickiness and the derived task status', async () => {
    const [a] = open;
    const t0 = Date.now();
    const progress = djiEnvelope({ bid: 'pg-rules', status: UpgradeStatus.IN_PROGRESS, percent: 40, occurredAt: new Date(t0) });
    expect((await a.recorder.record(progress)).outcome).toBe(InboundOutcome.RECORDED);
    // Same message again (same dedupe key): kept in the ledger as a duplicate, nothing else.
    const again = await a.recorder.record({ ...progress, receivedAt: new Date() });
    expect(again.outcome).toBe(InboundOutcome.DUPLICATE);
    // A late redelivery, older by the dock's clock than what was applied: history only.
    // (Arrival order decides otherwise; these two used to show the old rule, device time deciding.)
    const stale = await a.recorder.record(
      djiEnvelope({ bid: 'pg-rules', status: UpgradeStatus.IN_PROGRESS, percent: 10, occurredAt: new Date(t0 - 5000), redelivered: true }),
    );
    expect(stale.progress[0].event).toMatchObject({ applied: false, ignoredReason: 'STALE' });
    await a.recorder.record(djiEnvelope({ bid: 'pg-rules', status: UpgradeStatus.SUCCEEDED, percent: 100, occurredAt: new Date(t0 + 1000) }));
    // Progress after the end: history only, the task stays SUCCEEDED.
    const late = await a.recorder.record(djiEnvelope({ bid: 'pg-rules', status: UpgradeStatus.IN_PROGRESS, occurredAt: new Date(t0 + 2000) }));
    expect(late.progress[0].event).toMatchObject({ applied: false, ignoredReason: 'TERMINAL' });

    const { rows } = await a.store.listTasks({ gatewaySn: 'DOCK-1' }, 50, null);
    const task = rows.find((t) => t.externalId === 'pg-rules')!;
    expect(task).toMatchObject({ status: UpgradeStatus.SUCCEEDED, progress: 100 });
    const [sub] = await a.store.subTasksOfTasks([task.id]);
    const events = await a.store.eventsOfSubTasks([sub.id]);
    expect(events.map((e) => [e.status, e.applied])).toEqual([
      ['IN_PROGRESS', true],
      ['IN_PROGRESS', false],
      ['SUCCEEDED', true],
      ['SUCCEEDED', false],
    ]);
    expect(events.map((e) => typeof e.applied)).toEqual(['boolean', 'boolean', 'boolean', 'boolean']);
    const ledger = await db.query<{ outcome: string; n: string }>(
      `SELECT outcome, count(*) AS n FROM inbound_message WHERE payload LIKE '%pg-rules%' GROUP BY outcome ORDER BY outcome`,
    );
    expect(ledger.map((r) => [r.outcome, Number(r.n)])).toEqual([['DUPLICATE', 1], ['RECORDED', 4]]);

    // Derived status over several devices, from the tally the recorder keeps on the task.
    await a.recorder.record(huaweiEnvelope({ operationId: 'pg-op', deviceId: 'd1', status: UpgradeStatus.SUCCEEDED }));
    await a.recorder.record(huaweiEnvelope({ operationId: 'pg-op', deviceId: 'd2', status: UpgradeStatus.FAILED }));
    await a.recorder.record(huaweiEnvelope({ operationId: 'pg-op', deviceId: 'd3', status: UpgradeStatus.IN_PROGRESS, percent: 50 }));
    const op = (await a.store.listTasks({ appId: 'app-1' }, 50, null)).rows.find((t) => t.externalId === 'pg-op')!;
    expect(op).toMatchObject({ status: UpgradeStatus.IN_PROGRESS, progress: 50 });
    expect(tallyOfTask(op).counts).toMatchObject({ FAILED: 1, IN_PROGRESS: 1, SUCCEEDED: 1, PENDING: 0 });
    await a.recorder.record(huaweiEnvelope({ operationId: 'pg-op', deviceId: 'd3', status: UpgradeStatus.SUCCEEDED }));
    expect((await a.store.task(op.id))!.status).toBe(UpgradeStatus.FAILED);
  });

  test('keyset pagination walks tasks with equal creation times without gaps or repeats', async () => {
    const [a] = open;
    const at = new Date('2030-01-01T00:00:00.007Z');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = randomUUID();
      ids.push(id);
      await a.dataSource.getRepository(UpgradeTask).insert({
        id, source: UpgradeSource.HUAWEI, kind: 'FIRMWARE' as never, externalId: `page-${i}`, appId: 'paging',
        gatewaySn: null, status: UpgradeStatus.PENDING, progress: null,
        // Three share one instant: the id breaks the tie.
        createdAt: i < 3 ? at : new Date(at.getTime() + i), updatedAt: at,
      });
    }
    const seen: string[] = [];
    let after: { at: Date; id: string } | null = null;
    for (;;) {
      const page = await a.store.listTasks({ appId: 'paging' }, 2, after);
      expect(page.totalCount).toBe(7);
      seen.push(...page.rows.map((r) => r.id));
      if (!page.hasNextPage) break;
      const last = page.rows[page.rows.length - 1];
      after = { at: last.createdAt, id: last.id };
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  test('a unique violation caused by another instance is recorded as a duplicate, not an error', async () => {
    const [a] = open;
    const envelope = huaweiEnvelope({ operationId: 'pg-race', status: UpgradeStatus.IN_PROGRESS });
    // Another instance has written the same dedupe key but not committed yet.
    const other = await db.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO inbound_message (source, channel, dedupe_key, payload, outcome, received_at) VALUES ('HUAWEI', 'x', $1, '{}', 'RECORDED', now())`,
        [envelope.dedupeKey],
      );
      const recording = a.recorder.record(envelope);
      await someoneWaitsForALock(db); // our insert waits on the other's key
      await other.query('COMMIT');
      const result = await recording;
      expect(result.outcome).toBe(InboundOutcome.DUPLICATE);
    } finally {
      await other.end();
    }
    // The first attempt's task was rolled back with it.
    expect(await db.query(`SELECT id FROM upgrade_task WHERE external_id = 'pg-race'`)).toEqual([]);
  });

  test('a task another instance creates meanwhile is the one the observation applies to', async () => {
    const [a] = open;
    const other = await db.connect();
    const taskId = randomUUID();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO upgrade_task (id, source, kind, external_id, status, created_at, updated_at)
         VALUES ($1, 'HUAWEI', 'FIRMWARE', 'pg-task-race', 'PENDING', now(), now())`,
        [taskId],
      );
      const recording = a.recorder.record(huaweiEnvelope({ operationId: 'pg-task-race', status: UpgradeStatus.IN_PROGRESS }));
      await someoneWaitsForALock(db);
      await other.query('COMMIT');
      const result = await recording;
      expect(result.outcome).toBe(InboundOutcome.RECORDED);
      expect(result.progress[0].task.id).toBe(taskId);
    } finally {
      await other.end();
    }
    expect(await db.query(`SELECT id, status FROM upgrade_task WHERE external_id = 'pg-task-race'`)).toEqual([
      { id: taskId, status: 'IN_PROGRESS' },
    ]);
  });

  test('two instances writing the same task in parallel: a terminal status sticks', async () => {
    const [a, b] = open;
    await a.recorder.record(djiEnvelope({ bid: 'pg-parallel', status: UpgradeStatus.IN_PROGRESS, percent: 10 }));
    // A writes SUCCEEDED and keeps its transaction open while B records progress of the same task.
    const succeeded = a.recorder.record(djiEnvelope({ bid: 'pg-parallel', status: UpgradeStatus.SUCCEEDED, percent: 100 }));
    const held = holdBatchOpen(a);
    await new Promise((r) => setTimeout(r, 150));
    const progress = b.recorder.record(djiEnvelope({ bid: 'pg-parallel', status: UpgradeStatus.IN_PROGRESS, percent: 60 }));
    await someoneWaitsForALock(db); // B waits for A
    held.release();
    const [, sb] = await Promise.all([succeeded, progress]);
    // B decided on what A committed: its event is history only and the task stays SUCCEEDED.
    expect(sb.progress[0].event).toMatchObject({ applied: false, ignoredReason: 'TERMINAL' });
    const task = (await b.store.listTasks({ gatewaySn: 'DOCK-1' }, 50, null)).rows.find((t) => t.externalId === 'pg-parallel')!;
    expect(task.status).toBe(UpgradeStatus.SUCCEEDED);
    const [sub] = await b.store.subTasksOfTasks([task.id]);
    expect(sub).toMatchObject({ status: UpgradeStatus.SUCCEEDED, percent: 100 });
  });

  test('two instances pushing into one task at once keep its counts, status and progress exact', async () => {
    const [a, b] = open;
    const statuses = [UpgradeStatus.SENT, UpgradeStatus.IN_PROGRESS, UpgradeStatus.SUCCEEDED, UpgradeStatus.FAILED, UpgradeStatus.PAUSED];
    // 400 pushes over 60 devices, each sent to both instances (as a platform re-push lands anywhere): half are duplicates.
    const pushes = Array.from({ length: 400 }, (_, i) =>
      huaweiEnvelope({ operationId: 'pg-tally', deviceId: `d${(i * 7) % 60}`, status: statuses[i % statuses.length], percent: (i * 13) % 101 }),
    );
    const results = await Promise.all([
      ...pushes.map((p) => a.recorder.record(p)),
      ...[...pushes].reverse().map((p) => b.recorder.record({ ...p, receivedAt: new Date() })),
    ]);
    expect(results.filter((r) => r.outcome === InboundOutcome.RECORDED)).toHaveLength(400);
    const task = await a.dataSource.getRepository(UpgradeTask).findOneByOrFail({ externalId: 'pg-tally' });
    const subTasks = await a.dataSource.getRepository(UpgradeSubTask).findBy({ taskId: task.id });
    expect(subTasks).toHaveLength(60);
    const recount = tallyOf(subTasks);
    expect(tallyOfTask(task)).toEqual(recount);
    expect(task.status).toBe(deriveTaskStatus(recount.counts));
    expect(task.progress).toBe(deriveTaskProgress(recount));
  });

  test('two instances sweeping stale sub-tasks at once time each one out once', async () => {
    const [a, b] = open;
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const deviceId of ['s1', 's2', 's3']) {
      await a.recorder.record(huaweiEnvelope({ operationId: 'pg-stale', deviceId, status: UpgradeStatus.IN_PROGRESS }, { receivedAt: old }));
    }
    const sweep = (inst: Instance) =>
      inst.recorder.closeStaleSubTasks({ noNewsSince: new Date(Date.now() - 3600_000), limit: 100, describe: () => 'no news' });
    const [fromA, fromB] = await Promise.all([sweep(a), sweep(b), sweep(a), sweep(b)]);
    const mine = [...fromA, ...fromB].filter((m) => m.task.externalId === 'pg-stale');
    expect(mine.length).toBeLessThanOrEqual(3);
    const timedOut = await db.query<{ device_id: string; n: string }>(
      `SELECT s.device_id, count(*) AS n FROM progress_event e JOIN upgrade_sub_task s ON s.id = e.sub_task_id
        WHERE e.status = 'TIMED_OUT' GROUP BY s.device_id, s.id ORDER BY s.device_id`,
    );
    expect(timedOut.filter((r) => ['s1', 's2', 's3'].includes(r.device_id)).map((r) => [r.device_id, Number(r.n)])).toEqual([
      ['s1', 1],
      ['s2', 1],
      ['s3', 1],
    ]);
    expect(timedOut.filter((r) => Number(r.n) > 1)).toEqual([]);
  });

  test('two instances writing different tasks in parallel: progress event ids follow commit order', async () => {
    const [a, b] = open;
    const order: string[] = [];
    const first = a.recorder.record(djiEnvelope({ bid: 'pg-order-a', status: UpgradeStatus.IN_PROGRESS })).then((r) => {
      order.push('a');
      return r;
    });
    const held = holdBatchOpen(a);
    await new Promise((r) => setTimeout(r, 150));
    const second = b.recorder.record(djiEnvelope({ bid: 'pg-order-b', status: UpgradeStatus.IN_PROGRESS })).then((r) => {
      order.push('b');
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    held.release();
    const [ra, rb] = await Promise.all([first, second]);
    const byId = [
      ['a', ra.progress[0].event.id],
      ['b', rb.progress[0].event.id],
    ].sort((x, y) => Number(x[1]) - Number(y[1]));
    // A subscriber that saw the later-committed event first and resumes after it would miss the other one.
    expect(byId.map(([name]) => name)).toEqual(order);
  });
});
