import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, eventually } from '../support/gateway';
import { Dock } from '../fixtures/dji/dock';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { createTestDatabase, describeWith, endMqttSessions, runId, SERVICE_URLS, type TestDatabase } from './support/services';
import { firmwareDevice } from '../fixtures/dji/firmware-device';

/*
 * Two gateway processes (`node dist/src/server.js`) sharing one PostgreSQL
 * database, Redis and Mosquitto, a dock played by an MQTT.js client, and a
 * graphql-ws subscriber on each process.
 */

const PROGRESS = /* GraphQL */ `
  subscription($gatewaySn: String) {
    upgradeProgress(gatewaySn: $gatewaySn) {
      task { id externalId }
      event { id percent receivedAt }
    }
  }
`;

const CREATE = /* GraphQL */ `
  mutation($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { id externalId status }
  }
`;

/** The reply window of the processes: short, so that resends happen within a test. */
const REPLY_TIMEOUT_MS = 1500;

/** How long a process may take to be ready: longer than alone, as one of two migrating the same database waits for the other. */
const READY_TIMEOUT_MS = 30_000;

describeWith(['postgres', 'redis', 'mqtt'])('two gateway processes', () => {
  const run = runId();
  const sn = `SVC${run.toUpperCase()}`;
  const logs = join(tmpdir(), `ota-services-${run}`);
  let db: TestDatabase;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let dock: Dock;
  let onA: ReturnType<typeof collect<any>>;
  let onB: ReturnType<typeof collect<any>>;
  let clock = Date.UTC(2026, 10, 21, 10, 0, 0);

  /** Starts instance `a` or `b` (a restart keeps its client id, hence its broker session); `name` names its log. */
  const start = (name: string, instance: 'a' | 'b') =>
    startGatewayProcess({
      dir: logs,
      name,
      mqttUrl: SERVICE_URLS.mqtt,
      clientId: `ota-svc-${run}-${instance}`,
      waitReady: false,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: SERVICE_URLS.redis,
        MQTT_SHARED_GROUP: `ota-svc-${run}`,
        DJI_REPLY_TIMEOUT_MS: String(REPLY_TIMEOUT_MS),
        DJI_SEND_ATTEMPTS: '3',
      },
    });

  /** An ota_progress event (need_reply 1) as the dock sends it; each call a later timestamp. */
  const progress = (bid: string, percent: number, tid: string = randomUUID()) => ({
    tid,
    bid,
    timestamp: (clock += 1000),
    method: 'ota_progress',
    gateway: sn,
    need_reply: 1,
    data: { result: 0, output: { status: 'in_progress', progress: { percent, current_step: 'download_firmware' } } },
  });

  const repliesTo = (tid: string) => dock.eventsReplies.filter((r) => r.json?.tid === tid);
  const otaCreatesOf = (bid: string) => dock.otaCreates.filter((m) => m.json?.bid === bid);

  async function ledger(where: string, params: unknown[]): Promise<{ outcome: string; dedupe_key: string | null }[]> {
    return db.query(`SELECT outcome, dedupe_key FROM inbound_message WHERE ${where} ORDER BY id`, params);
  }

  async function commandStatus(bid: string): Promise<string | undefined> {
    const rows = await db.query<{ status: string }>(`SELECT status FROM outbound_command WHERE bid = $1`, [bid]);
    return rows[0]?.status;
  }

  async function createUpgrade(on: GatewayProcess): Promise<string> {
    const input = {
      gatewaySn: sn,
      devices: [firmwareDevice(sn)],
    };
    const { data, errors } = await on.gql(CREATE, { input });
    expect(errors).toBeUndefined();
    return data.createFirmwareUpgrade.externalId as string;
  }

  async function subscriptionsOn(gateway: GatewayProcess, count: number): Promise<void> {
    await eventually(async () => (await gateway.metric('ota_graphql_active_subscriptions')) >= count, 10_000, `${count} subscriptions on ${gateway.name}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  /** Runs a test body; a failure carries the end of both processes' logs. */
  const withLogs = (body: () => Promise<void>) => async () => {
    try {
      await body();
    } catch (error) {
      const tails = [a, b].filter(Boolean).map((g) => `--- ${g.name} (${g.logFile}) ---\n${g.tail(30)}`);
      if (error instanceof Error) error.message += `\n\n${tails.join('\n')}`;
      throw error;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // Started together on an empty database: one of them migrates, the other waits.
    [a, b] = await Promise.all([start('a', 'a'), start('b', 'b')]);
    await Promise.all([a.waitReady(READY_TIMEOUT_MS), b.waitReady(READY_TIMEOUT_MS)]);
    dock = await Dock.connect(SERVICE_URLS.mqtt, sn);
    onA = collect<any>(a.ws(), PROGRESS, { gatewaySn: sn });
    onB = collect<any>(b.ws(), PROGRESS, { gatewaySn: sn });
    await Promise.all([subscriptionsOn(a, 1), subscriptionsOn(b, 1)]);
  }, 60_000);

  afterAll(async () => {
    await dock?.close().catch(() => undefined);
    await Promise.all([a?.stop(), b?.stop()]);
    await endMqttSessions([`ota-svc-${run}-a`, `ota-svc-${run}-b`]);
    await db?.drop();
    if (!process.env.OTA_TEST_KEEP_DATABASES) rmSync(logs, { recursive: true, force: true });
  }, 30_000);

  test('every event is handled by one instance, stored once, answered once, and delivered once to every subscriber', withLogs(async () => {
    const bid = `bid-${run}-1`;
    const events = Array.from({ length: 20 }, (_, i) => progress(bid, (i + 1) * 4));
    for (const event of events) await dock.event(event);

    await eventually(() => events.every((e) => repliesTo(e.tid).length >= 1), 15_000, 'an events_reply for every event');
    await Promise.all([onA.until(20, 15_000), onB.until(20, 15_000)]);
    await new Promise((r) => setTimeout(r, 500)); // nothing more comes

    for (const event of events) expect(repliesTo(event.tid)).toHaveLength(1);
    const rows = await ledger(`dedupe_key LIKE $1`, [`dji:${sn}:event:%`]);
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.outcome === 'RECORDED')).toBe(true);
    const stored = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM progress_event e JOIN upgrade_task t ON t.id = e.task_id WHERE t.external_id = $1`,
      [bid],
    );
    expect(Number(stored[0].n)).toBe(20);

    for (const sub of [onA, onB]) {
      expect(sub.errors).toEqual([]);
      expect(sub.received).toHaveLength(20);
      expect(new Set(sub.received.map((m) => m.upgradeProgress.event.id)).size).toBe(20);
    }
    expect(new Set(onA.received.map((m) => m.upgradeProgress.event.id))).toEqual(new Set(onB.received.map((m) => m.upgradeProgress.event.id)));

    // The shared subscription split the work: each instance handled some, together all, none twice.
    const handled = await Promise.all([a, b].map((g) => g.metric('ota_mqtt_messages_total', { method: 'ota_progress' })));
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
    expect(handled[0] + handled[1]).toBe(20);
  }));

  test('the same event delivered again, to either instance, is a DUPLICATE: stored once, answered each time', withLogs(async () => {
    const event = progress(`bid-${run}-1`, 90);
    const before = onB.received.length;
    for (let i = 0; i < 4; i++) await dock.event(event);
    await eventually(() => repliesTo(event.tid).length >= 4, 15_000, 'four events_reply');
    await onB.until(before + 1);
    await new Promise((r) => setTimeout(r, 500));

    const rows = await ledger(`payload LIKE $1`, [`%${event.tid}%`]);
    expect(rows.map((r) => r.outcome).sort()).toEqual(['DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'RECORDED']);
    expect(onB.received.length).toBe(before + 1);
    expect(repliesTo(event.tid)).toHaveLength(4);
  }));

  test('ota_create goes out once per send; a services_reply is correlated by whichever instance receives it', withLogs(async () => {
    const bids: string[] = [];
    for (let i = 0; i < 4; i++) bids.push(await createUpgrade(a));
    await eventually(() => bids.every((bid) => otaCreatesOf(bid).length >= 1), 10_000, 'an ota_create per upgrade');
    for (const bid of bids) await dock.replyTo(otaCreatesOf(bid)[0]);
    await eventually(async () => (await Promise.all(bids.map(commandStatus))).every((s) => s === 'ANSWERED'), 10_000, 'every command answered');
    // Past two reply windows: nobody resends an answered command.
    await new Promise((r) => setTimeout(r, 2 * REPLY_TIMEOUT_MS + 500));
    for (const bid of bids) expect(otaCreatesOf(bid)).toHaveLength(1);
    const replies = await ledger(`channel = 'ota_create' AND dedupe_key LIKE $1`, [`dji:${sn}:reply:%`]);
    expect(replies.map((r) => r.outcome)).toEqual(['RECORDED', 'RECORDED', 'RECORDED', 'RECORDED']);
    // All four were sent by A; the broker handed some of the replies to B, which found the command in the database.
    expect(await b.metric('ota_mqtt_messages_total', { method: 'ota_create', outcome: 'recorded' })).toBeGreaterThan(0);
  }));

  test('an unanswered ota_create is resent once per reply window, by one of the instances', withLogs(async () => {
    const bid = await createUpgrade(b);
    const [first] = await (async () => {
      await eventually(() => otaCreatesOf(bid).length >= 1, 10_000, 'the first ota_create');
      return otaCreatesOf(bid);
    })();
    // The dock does not answer the first send; it answers the resend.
    await eventually(() => otaCreatesOf(bid).length >= 2, 4 * REPLY_TIMEOUT_MS, 'a resend');
    const second = otaCreatesOf(bid)[1];
    expect(second.json.tid).not.toBe(first.json.tid);
    expect(second.json.bid).toBe(bid);
    await dock.replyTo(second);
    await eventually(async () => (await commandStatus(bid)) === 'ANSWERED', 10_000, 'the command answered');
    await new Promise((r) => setTimeout(r, 2 * REPLY_TIMEOUT_MS + 500));
    expect(otaCreatesOf(bid)).toHaveLength(2);
  }));

  test('after one instance is killed, the other carries on and takes over its resends; every event of the dead one\'s share is recorded once', withLogs(async () => {
    const bid = await createUpgrade(a);
    await eventually(() => otaCreatesOf(bid).length >= 1, 10_000, 'the first ota_create');
    expect((await a.kill('SIGKILL')).code).toBeNull();

    // Persistent sessions (the default): the broker keeps routing a share of the group's
    // messages to the dead member's session and holds them there until the survivor takes that
    // session over (the mqtt_session table, under an advisory lock) or the member comes back.
    const before = onB.received.length;
    const later = Array.from({ length: 6 }, (_, i) => progress(`bid-${run}-1`, 91 + i));
    for (const event of later) await dock.event(event);
    await eventually(() => later.some((e) => repliesTo(e.tid).length >= 1), 15_000, 'the survivor answering its share');
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);

    // A sent the command and died; B resends it when the reply window lapses.
    await eventually(() => otaCreatesOf(bid).length >= 2, 4 * REPLY_TIMEOUT_MS, 'the resend by the survivor');
    await dock.replyTo(otaCreatesOf(bid)[1]);

    // A comes back with its client id: whatever its session still held arrives (the reply too,
    // if the broker routed it there), and every event is stored once, whoever drained it.
    a = await start('a2', 'a');
    await a.waitReady(READY_TIMEOUT_MS);
    await eventually(async () => (await commandStatus(bid)) === 'ANSWERED', 10_000, 'the command answered');
    await eventually(() => later.every((e) => repliesTo(e.tid).length >= 1), 15_000, 'an events_reply for every later event');
    const rows = await ledger(`dedupe_key = ANY($1)`, [later.map((e) => `dji:${sn}:event:${e.tid}`)]);
    expect(rows.map((r) => r.outcome)).toEqual(later.map(() => 'RECORDED'));
    // B's subscriber sees every event, whichever instance recorded it (Redis); the reply's SENT comes too.
    await onB.until(before + later.length + 1, 15_000);
    const percents = onB.received.slice(before).map((m) => m.upgradeProgress.event.percent).filter((p) => p !== null);
    expect(percents.sort()).toEqual(later.map((e) => e.data.output.progress.percent).sort());
  }));

  test('stopping an instance cleanly in mid-stream loses nothing: it leaves the group and handles what it already holds', withLogs(async () => {
    const onA2 = collect<any>(a.ws(), PROGRESS, { gatewaySn: sn });
    await subscriptionsOn(a, 1);

    const burst = Array.from({ length: 40 }, (_, i) => progress(`bid-${run}-2`, i + 1));
    let stopping: Promise<unknown> | undefined;
    for (const [i, event] of burst.entries()) {
      await dock.event(event);
      if (i === 15) stopping = b.stop(); // SIGTERM while the dock keeps sending
    }
    await stopping;
    expect(b.child.exitCode).toBe(0);
    b = await start('b2', 'b');
    await b.waitReady(READY_TIMEOUT_MS);

    await eventually(() => burst.every((e) => repliesTo(e.tid).length >= 1), 15_000, 'an events_reply for every event of the burst');
    const rows = await ledger(`dedupe_key = ANY($1)`, [burst.map((e) => `dji:${sn}:event:${e.tid}`)]);
    expect(rows.map((r) => r.outcome)).toEqual(burst.map(() => 'RECORDED'));
    await onA2.until(40, 15_000);
    expect(new Set(onA2.received.map((m) => m.upgradeProgress.event.id)).size).toBe(40);
    // The restarted instance handled its share.
    expect(await a.metric('ota_mqtt_messages_total', { method: 'ota_progress' })).toBeGreaterThan(0);
  }));
});
