/**
 * Delivery matrix: gateway processes (`node dist/src/server.js`) sharing one
 * PostgreSQL database and one shared MQTT group come and go while a dock
 * publishes a steady QoS 1 stream, and every case counts what the broker
 * accepted (sent), what was recorded, recorded twice, and lost:
 * - a rolling restart of two instances where the new processes get new client ids;
 * - scaling from three instances to one;
 * - kill -9 of an instance that never returns;
 * - a broker restart (a private Mosquitto: the shared one is not ours to restart);
 * - a clean run afterwards, with a fresh instance in the same group: every
 *   message recorded, and no session of this run left at the broker.
 * Against the machine's Mosquitto, with a shared group and gateway serial of
 * this run's own, so other runs on that broker cannot interfere; every session
 * a case created is checked (a clean stop leaves none) and removed.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { eventually, sleep } from '../support/gateway';
import { report, startGatewayProcess, type GatewayProcess } from '../support/gateway-process';
import { mosquittoBinary, startMosquitto, type Mosquitto } from '../support/mosquitto';
import { createTestDatabase, describeWith, endMqttSessions, runId, SERVICE_URLS, type TestDatabase } from './support/services';

/** Messages per second the dock publishes in every case. */
const RATE = 40;
const READY_TIMEOUT_MS = 40_000;

/** A dock publishing `ota_progress` (QoS 1) at {@link RATE} per second; remembers when the broker accepted each. */
class Stream {
  /** Message index → when the broker's PUBACK came. */
  readonly accepted = new Map<number, number>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(
    private readonly client: MqttClient,
    private readonly sn: string,
    readonly name: string,
  ) {}

  /** Connects a dock to `url` (clean session; reconnects by itself, so it rides out a broker restart). */
  static async open(url: string, sn: string, name: string): Promise<Stream> {
    const client = await mqtt.connectAsync(url, { clientId: `dlv-dock-${name}-${runId()}`, clean: true, protocolVersion: 4, reconnectPeriod: 200 });
    client.on('error', () => undefined);
    return new Stream(client, sn, name);
  }

  tid(i: number): string {
    return `${this.name}-${i}`;
  }

  start(): void {
    const T0 = Date.UTC(2026, 10, 25);
    this.timer = setInterval(() => {
      const i = this.next++;
      const payload = JSON.stringify({
        tid: this.tid(i),
        bid: `bid-${this.name}`,
        timestamp: T0 + i * 25,
        method: 'ota_progress',
        gateway: this.sn,
        need_reply: 0,
        data: { result: 0, output: { status: 'in_progress', progress: { percent: i % 100, current_step: 'download_firmware' } } },
      });
      const sending = this.client.publishAsync(`thing/product/${this.sn}/events`, payload, { qos: 1 }).then(
        () => void this.accepted.set(i, Date.now()),
        () => undefined,
      );
      this.pending.add(sending);
      void sending.finally(() => this.pending.delete(sending));
    }, 1000 / RATE);
  }

  /** Stops publishing and waits (up to 20 s) for the broker to accept what is on its way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.pending]), new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
    await this.client.endAsync(true);
  }
}

/** What a case measured. */
interface Figures {
  readonly sent: number;
  readonly recorded: number;
  readonly recordedTwice: number;
  /** Copies the broker delivered again and the ledger absorbed as DUPLICATE. */
  readonly redelivered: number;
  /** Indexes the broker accepted and no instance recorded. */
  readonly lost: number[];
}

/**
 * Whether the broker still holds a session for `clientId`: connects with
 * Clean Start 0 (a session that exists is resumed: CONNACK Session Present)
 * and a session expiry of 0, so the broker drops it, whatever it was, on
 * disconnection. Either way nothing of this client id is left afterwards.
 */
async function sessionLeftBehind(url: string, clientId: string): Promise<boolean> {
  const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('close', () => reject(new Error(`${clientId}: no CONNACK`)));
  });
  await client.endAsync();
  return connack.sessionPresent;
}

describeWith(['postgres', 'mqtt'])('delivery matrix: instances that come and go under load', () => {
  const run = runId();
  const sn = `DLV${run.toUpperCase()}`;
  const group = `dlv-${run}`;
  const logs = join(tmpdir(), `ota-delivery-${run}`);
  /** Every client id this run used at the shared broker (afterAll removes whatever is left). */
  const clientIds: string[] = [];
  /** Every process started, for the logs of a failure and the final kill. */
  const started: GatewayProcess[] = [];
  let db: TestDatabase;

  const clientId = (name: string) => {
    const id = `dlv-${run}-${name}`;
    clientIds.push(id);
    return id;
  };

  /** Starts an instance named `name` (its client id too) on `mqttUrl`, without waiting for it. */
  const launch = (name: string, env: Record<string, string> = {}, mqttUrl: string = SERVICE_URLS.mqtt) => {
    const gateway = startGatewayProcess({
      dir: logs,
      name,
      mqttUrl,
      clientId: mqttUrl === SERVICE_URLS.mqtt ? clientId(name) : `dlv-${run}-${name}`,
      waitReady: false,
      env: { DATABASE_URL: db.url, MQTT_SHARED_GROUP: group, LOG_LEVEL: 'warn', ...env },
    });
    return gateway.then((g) => (started.push(g), g));
  };

  const startReady = async (names: string[], env: Record<string, string> = {}, mqttUrl?: string) => {
    const gateways = await Promise.all(names.map((name) => launch(name, env, mqttUrl)));
    await Promise.all(gateways.map((g) => g.waitReady(READY_TIMEOUT_MS)));
    return gateways;
  };

  const stopCleanly = async (gateway: GatewayProcess) => {
    const exit = await gateway.stop();
    expect({ name: gateway.name, ...exit }).toEqual({ name: gateway.name, code: 0, signal: null });
  };

  /** The dedupe keys of one stream that were recorded, and how it ended up in the ledger and history. */
  async function measure(stream: Stream): Promise<{ recorded: Set<string>; duplicates: number; events: number }> {
    const rows = await db.query<{ dedupe_key: string; outcome: string }>(`SELECT dedupe_key, outcome FROM inbound_message WHERE dedupe_key LIKE $1`, [
      `dji:${sn}:event:${stream.name}-%`,
    ]);
    const events = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM progress_event e JOIN upgrade_task t ON t.id = e.task_id WHERE t.external_id = $1`,
      [`bid-${stream.name}`],
    );
    return {
      recorded: new Set(rows.filter((r) => r.outcome === 'RECORDED').map((r) => r.dedupe_key)),
      duplicates: rows.filter((r) => r.outcome === 'DUPLICATE').length,
      events: Number(events[0].n),
    };
  }

  /** Waits until every accepted message is recorded, or nothing new was recorded for 5 s (at most 60 s); then counts. */
  async function settle(stream: Stream): Promise<Figures> {
    const key = (i: number) => `dji:${sn}:event:${stream.tid(i)}`;
    const deadline = Date.now() + 60_000;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const { recorded } = await measure(stream);
      if (recorded.size !== last) [last, lastChange] = [recorded.size, Date.now()];
      if ([...stream.accepted.keys()].every((i) => recorded.has(key(i))) || Date.now() - lastChange > 5000 || Date.now() > deadline) break;
      await sleep(200);
    }
    const { recorded, duplicates, events } = await measure(stream);
    return {
      sent: stream.accepted.size,
      recorded: recorded.size,
      recordedTwice: Math.max(0, events - recorded.size),
      redelivered: duplicates,
      lost: [...stream.accepted.keys()].filter((i) => !recorded.has(key(i))).sort((a, b) => a - b),
    };
  }

  const print = (name: string, figures: Figures, extra: Record<string, number | string> = {}) =>
    report(`delivery: ${name}`, {
      sent: figures.sent,
      recorded: figures.recorded,
      recordedTwice: figures.recordedTwice,
      redelivered: figures.redelivered,
      lost: figures.lost.length,
      ...extra,
    });

  /** Runs a case; a failure carries the end of the logs of the processes it started. */
  const withLogs = (body: () => Promise<void>) => async () => {
    const before = started.length;
    try {
      await body();
    } catch (error) {
      const tails = started.slice(before).map((g) => `--- ${g.name} (${g.logFile}) ---\n${g.tail(20)}`);
      if (error instanceof Error) error.message += `\n\n${tails.join('\n')}`;
      throw error;
    } finally {
      for (const g of started.slice(before)) g.child.kill('SIGKILL');
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // Migrate once, so that the cases' instances start together without waiting on each other.
    const [first] = await startReady(['migrate']);
    await stopCleanly(first);
  }, 60_000);

  afterAll(async () => {
    for (const g of started) g.child.kill('SIGKILL');
    await Promise.all(started.map((g) => g.exited));
    await endMqttSessions(clientIds);
    await db?.drop();
    if (!process.env.OTA_TEST_KEEP_DATABASES) rmSync(logs, { recursive: true, force: true });
  }, 60_000);

  test('rolling restart of two instances under load, the new processes with new client ids: nothing lost, nothing left behind', withLogs(async () => {
    let [a, b] = await startReady(['roll-a1', 'roll-b1']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `roll-${run}`);
    stream.start();
    await sleep(2000);
    // As a Deployment rolls: the new pod is ready, then the old one gets SIGTERM.
    const [a2] = await startReady(['roll-a2']);
    await stopCleanly(a);
    a = a2;
    await sleep(1000);
    const [b2] = await startReady(['roll-b2']);
    await stopCleanly(b);
    b = b2;
    await sleep(2000);
    await stream.stop();

    const figures = await settle(stream);
    print('rolling restart of two instances, new client ids', figures);
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    await Promise.all([stopCleanly(a), stopCleanly(b)]);
    for (const name of ['roll-a1', 'roll-b1', 'roll-a2', 'roll-b2']) expect({ name, left: await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
  }), 180_000);

  test('scaling from three instances to one under load: nothing lost, nothing left behind', withLogs(async () => {
    const [c1, c2, c3] = await startReady(['scale-1', 'scale-2', 'scale-3']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `scale-${run}`);
    stream.start();
    await sleep(2000);
    await Promise.all([stopCleanly(c2), stopCleanly(c3)]);
    await sleep(3000);
    await stream.stop();

    const figures = await settle(stream);
    print('scaling from three instances to one', figures);
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    await stopCleanly(c1);
    for (const name of ['scale-1', 'scale-2', 'scale-3']) expect({ name, left: await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
  }), 180_000);

  test('kill -9 of an instance that never returns: the survivor drains its session, nothing lost, nothing left behind', withLogs(async () => {
    const [k1, k2] = await startReady(['kill-1', 'kill-2']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `kill-${run}`);
    stream.start();
    await sleep(2000);
    await k1.kill('SIGKILL');
    const killedAt = Date.now();
    // Well short of the session expiry (60 s): what saves the dead instance's share is the survivor taking its session over.
    await eventually(async () => (await db.query(`SELECT 1 FROM mqtt_session WHERE client_id = $1`, [`dlv-${run}-kill-1`])).length === 0, 30_000, 'the dead session drained');
    const drainedAfterMs = Date.now() - killedAt;
    await sleep(2000);
    await stream.stop();

    const figures = await settle(stream);
    print('kill -9 of one of two instances, never back', figures, { sessionDrainedAfterMs: drainedAfterMs });
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    await stopCleanly(k2);
    for (const name of ['kill-1', 'kill-2']) expect({ name, left: await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
  }), 180_000);

  test(`kill -9 of the only instance, never back, a new one (new client id) started later: it drains the dead session, nothing lost`, withLogs(async () => {
    const [k] = await startReady(['alone-1']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `alone-${run}`);
    stream.start();
    await sleep(2000);
    await k.kill('SIGKILL');
    // Nobody runs for a while: the broker queues the group's traffic in the dead session (it expires after 60 s).
    await sleep(3000);
    const [fresh] = await startReady(['alone-2']);
    await eventually(async () => (await db.query(`SELECT 1 FROM mqtt_session WHERE client_id = $1`, [`dlv-${run}-alone-1`])).length === 0, 30_000, 'the dead session drained');
    await sleep(2000);
    await stream.stop();

    const figures = await settle(stream);
    print('kill -9 of the only instance, a new one later', figures);
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    await stopCleanly(fresh);
    for (const name of ['alone-1', 'alone-2']) expect({ name, left: await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
  }), 180_000);

  test(`two instances started with one MQTT_CLIENT_ID: the second is refused at start, the first goes on`, withLogs(async () => {
    const [first] = await startReady(['twin']);
    const second = await startGatewayProcess({
      dir: logs,
      name: 'twin-b',
      mqttUrl: SERVICE_URLS.mqtt,
      clientId: `dlv-${run}-twin`,
      waitReady: false,
      env: { DATABASE_URL: db.url, MQTT_SHARED_GROUP: group, LOG_LEVEL: 'warn' },
    });
    started.push(second);
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.output()).toMatch(/MQTT_CLIENT_ID: "dlv-[0-9a-f]+-twin" is in use by another running instance/);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    await stopCleanly(first);
    expect(await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-twin`)).toBe(false);
  }), 120_000);

  test('the database connection holding an instance\'s lock is cut under load: another drains its session, it takes the lock back and goes on, nothing lost', withLogs(async () => {
    const [l1, l2] = await startReady(['lock-1', 'lock-2']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `lock-${run}`);
    stream.start();
    await sleep(2000);
    const holders = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid::bigint = (hashtext($1)::bigint & 4294967295) AND granted`,
      [`${SERVICE_URLS.mqtt} dlv-${run}-lock-1`],
    );
    expect(holders).toHaveLength(1);
    await db.query(`SELECT pg_terminate_backend($1)`, [holders[0].pid]);
    // lock-1 takes its lock back (or, if lock-2 found it free first and drains its session, pauses until then).
    await eventually(() => /lock taken again/.test(l1.output()), 30_000, 'lock-1 taking its lock back');
    await eventually(async () => (await fetch(`${l1.url}/readyz`)).status === 200, 30_000, 'lock-1 ready again');
    await sleep(2000);
    await stream.stop();

    const figures = await settle(stream);
    print('lock connection of one of two instances cut', figures);
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    // Both consume again: lock-1 handles part of what comes next.
    const before = await l1.metric('ota_mqtt_messages_total', { method: 'ota_progress' });
    const more = await Stream.open(SERVICE_URLS.mqtt, sn, `lock2-${run}`);
    more.start();
    await sleep(2000);
    await more.stop();
    const after = await settle(more);
    expect(after.lost).toEqual([]);
    expect(await l1.metric('ota_mqtt_messages_total', { method: 'ota_progress' })).toBeGreaterThan(before);
    await Promise.all([stopCleanly(l1), stopCleanly(l2)]);
    for (const name of ['lock-1', 'lock-2']) expect({ name, left: await sessionLeftBehind(SERVICE_URLS.mqtt, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
  }), 180_000);

  (mosquittoBinary() ? test : test.skip)('broker restart under load (a private Mosquitto): lost only what the broker accepted before the instances had subscribed again', withLogs(async () => {
    const broker: Mosquitto = await startMosquitto();
    try {
      const [r1, r2] = await startReady(['broker-1', 'broker-2'], {}, broker.url);
      const stream = await Stream.open(broker.url, sn, `broker-${run}`);
      stream.start();
      await sleep(2000);
      const stoppedAt = Date.now();
      await broker.stop();
      await sleep(1000);
      const backAt = Date.now();
      await broker.start();
      // Ready means connected and subscribed again (SUBACK).
      await eventually(
        async () => (await Promise.all([r1, r2].map((g) => fetch(`${g.url}/readyz`).then((r) => r.status, () => 0)))).every((s) => s === 200),
        60_000,
        'both instances ready again',
      );
      const resubscribedAt = Date.now();
      await sleep(2000);
      await stream.stop();

      const figures = await settle(stream);
      const at = (i: number) => stream.accepted.get(i)!;
      const lostBeforeStop = figures.lost.filter((i) => at(i) < stoppedAt);
      const lostBeforeResubscribed = figures.lost.filter((i) => at(i) >= backAt && at(i) <= resubscribedAt);
      const sentBeforeResubscribed = [...stream.accepted.values()].filter((t) => t >= backAt && t <= resubscribedAt).length;
      const lostAfter = figures.lost.filter((i) => at(i) > resubscribedAt);
      print('broker restart (SIGTERM, persistence), two instances', figures, {
        lostAcceptedBeforeStop: lostBeforeStop.length,
        sentBetweenBrokerBackAndResubscribed: sentBeforeResubscribed,
        lostOfThose: lostBeforeResubscribed.length,
        lostAfterResubscribed: lostAfter.length,
        resubscribedAfterMs: resubscribedAt - backAt,
      });
      expect(lostBeforeStop).toEqual([]);
      expect(lostAfter).toEqual([]);
      expect(lostBeforeResubscribed.length).toBe(figures.lost.length);
      expect(figures.recordedTwice).toBe(0);
      await Promise.all([stopCleanly(r1), stopCleanly(r2)]);
      for (const name of ['broker-1', 'broker-2']) expect({ name, left: await sessionLeftBehind(broker.url, `dlv-${run}-${name}`) }).toEqual({ name, left: false });
    } finally {
      for (const g of started) if (g.name.startsWith('broker-')) g.child.kill('SIGKILL');
      await broker.dispose();
    }
  }), 180_000);

  test('a clean run afterwards, one fresh instance in the same group: every message recorded, no session of this run left at the broker', withLogs(async () => {
    const [z] = await startReady(['clean-1']);
    const stream = await Stream.open(SERVICE_URLS.mqtt, sn, `clean-${run}`);
    stream.start();
    await sleep(4000);
    await stream.stop();

    const figures = await settle(stream);
    print('clean run afterwards, one fresh instance', figures);
    expect(figures.lost).toEqual([]);
    expect(figures.recordedTwice).toBe(0);
    await stopCleanly(z);
    const left: string[] = [];
    for (const id of clientIds) if (await sessionLeftBehind(SERVICE_URLS.mqtt, id)) left.push(id);
    expect(left).toEqual([]);
  }), 120_000);
});
