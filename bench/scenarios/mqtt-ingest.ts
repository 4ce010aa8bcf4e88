import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { startGatewayProcess, withGatewayLog, writerStats } from '../lib/gateway';
import { connectMqtt, endAll, publishAll, type Outgoing } from '../lib/mqtt-load';
import { dockSn, otaProgress, progressLanes, PROGRESS_SUBSCRIPTION } from '../lib/payloads';
import { cpuSecondsOf, memoryOf, sleep, spawnBaseline, withTimeout } from '../lib/proc';
import { openSubscriber, waitSubscriptions, warmUp } from '../lib/subscribers';
import type { ScenarioContext } from './context';

/** Tasks (bids) the messages are spread over. */
const BIDS = 100;

export interface IngestRun {
  /** From the first publish to the last message received by the subscriber, s. */
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** From the first publish to the last PUBACK from the broker, s. */
  readonly publishSeconds: number;
  readonly received: number;
  /** CPU seconds the server process used during the run (all threads). */
  readonly serverCpuSeconds: number | null;
  readonly rssMbAfter: number | null;
  readonly peakRssMbAfter: number | null;
}

export interface MqttIngestResult {
  readonly messages: number;
  readonly publishers: number;
  readonly gateway: IngestRun & {
    readonly rssMbIdle: number | null;
    /** The writer during the run: batches, mean units per batch, time inside batches. */
    readonly writer: { batches: number; meanBatch: number; busySeconds: number; busyShare: number };
    readonly subscriberErrors: number;
  };
  readonly baseline: IngestRun;
  /** The same through an aedes broker that acknowledges each message only once committed into SQLite. */
  readonly durableBaseline: IngestRun;
}

/**
 * Scenario 1: `messages` QoS 1 `ota_progress` messages published as fast as
 * the broker takes them, until each one is committed and delivered to a
 * graphql-ws subscriber; baseline: the same through a bare aedes broker to a
 * bare MQTT.js QoS 1 subscriber.
 */
export async function mqttIngest(ctx: ScenarioContext): Promise<MqttIngestResult> {
  const { messages, publishers, window } = ctx.options;
  ctx.log(`mqtt ingest: baseline (bare aedes → MQTT.js subscriber), ${messages} messages`);
  const baseline = await baselineRun(ctx, 'aedes-broker.js');
  ctx.log(`mqtt ingest: durable baseline (aedes, PUBACK after a group commit into SQLite), ${messages} messages`);
  const durableBaseline = await baselineRun(ctx, 'aedes-durable.js');
  ctx.log(`mqtt ingest: gateway, ${messages} messages`);
  const gateway = await gatewayRun(ctx);
  return { messages, publishers, gateway, baseline, durableBaseline };

  async function baselineRun(ctx: ScenarioContext, script: string): Promise<IngestRun> {
    const { child, port } = await spawnBaseline(`aedes baseline (${script})`, script);
    const url = `mqtt://127.0.0.1:${port}`;
    const clients = [];
    try {
      const subscriber = await connectMqtt(url, `bench-sub-${process.pid}`);
      clients.push(subscriber);
      let received = 0;
      let lastAt = 0;
      let target = Number.POSITIVE_INFINITY;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      subscriber.on('message', () => {
        received++;
        lastAt = performance.now();
        if (received >= target) done();
      });
      await subscriber.subscribeAsync('thing/product/+/events', { qos: 1 });
      const pubs = await Promise.all(Array.from({ length: publishers }, (_, i) => connectMqtt(url, `bench-pub-${process.pid}-${i}`)));
      clients.push(...pubs);
      await warmUp((n) => publishOne(pubs[0], otaProgress({ run: 'warm', bid: 0, tid: n, percent: 0, timestamp: Date.now() })), () => received, 1);
      const run = randomUUID().slice(0, 8);
      const lanes = progressLanes(run, messages, BIDS, publishers);
      received = 0;
      target = messages;
      const cpuBefore = cpuSecondsOf(child.pid);
      const timeoutMs = 60_000 + messages * 2;
      const { startedAt, ackedAt } = await publishAll(pubs, lanes, window, timeoutMs);
      await withTimeout(finished, timeoutMs, `${messages} messages at the baseline subscriber (got ${received})`);
      const cpuAfter = cpuSecondsOf(child.pid);
      const seconds = (lastAt - startedAt) / 1000;
      await sleep(500);
      const memory = memoryOf(child.pid);
      ctx.log(`  baseline: ${messages} in ${seconds.toFixed(2)} s`);
      return {
        seconds,
        messagesPerSecond: messages / seconds,
        publishSeconds: (ackedAt - startedAt) / 1000,
        received,
        serverCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
        rssMbAfter: memory?.rssMb ?? null,
        peakRssMbAfter: memory?.peakRssMb ?? null,
      };
    } finally {
      await endAll(clients);
      await child.stop();
    }
  }

  async function gatewayRun(ctx: ScenarioContext): Promise<MqttIngestResult['gateway']> {
    const gw = await startGatewayProcess({ label: 'mqtt-ingest', cpuProfileDir: ctx.profileDir ?? undefined });
    const clients = [];
    let subscriber: Awaited<ReturnType<typeof openSubscriber>> | undefined;
    try {
      await sleep(1_000);
      const rssIdle = memoryOf(gw.pid)?.rssMb ?? null;
      let received = 0;
      let lastAt = 0;
      let target = Number.POSITIVE_INFINITY;
      let done: () => void = () => undefined;
      let fail: (error: unknown) => void = () => undefined;
      const finished = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
      finished.catch(() => undefined);
      subscriber = await openSubscriber(
        gw.wsUrl,
        PROGRESS_SUBSCRIPTION,
        () => {
          received++;
          lastAt = performance.now();
          if (received >= target) done();
        },
        (error) => fail(new Error(`the subscription failed after ${received} events: ${describe(error)}`)),
      );
      await waitSubscriptions(() => gw.metrics(), 1);
      const pubs = await Promise.all(Array.from({ length: publishers }, (_, i) => connectMqtt(gw.mqttUrl, `bench-pub-${process.pid}-${i}`, undefined, dockSn(i))));
      clients.push(...pubs);
      await warmUp((n) => publishOne(pubs[0], otaProgress({ run: 'warm', bid: 0, tid: n, percent: 0, timestamp: Date.now() })), () => received, 1);
      const run = randomUUID().slice(0, 8);
      const lanes = progressLanes(run, messages, BIDS, publishers);
      const writerBefore = writerStats(await gw.metrics());
      const cpuBefore = cpuSecondsOf(gw.pid);
      received = 0;
      target = messages;
      const timeoutMs = 60_000 + messages * 15;
      const { startedAt, ackedAt } = await publishAll(pubs, lanes, window, timeoutMs);
      ctx.log(`  broker acknowledged every publish in ${((performance.now() - startedAt) / 1000).toFixed(2)} s; waiting for delivery`);
      const progress = setInterval(() => ctx.log(`  … ${received} of ${messages} delivered`), 10_000);
      try {
        await withTimeout(finished, timeoutMs, `${messages} progress events at the graphql-ws subscriber (got ${received})`);
      } finally {
        clearInterval(progress);
      }
      const cpuAfter = cpuSecondsOf(gw.pid);
      const seconds = (lastAt - startedAt) / 1000;
      const writerAfter = writerStats(await gw.metrics());
      await sleep(1_000);
      const memory = memoryOf(gw.pid);
      const busySeconds = writerAfter.commitSeconds - writerBefore.commitSeconds;
      const batches = writerAfter.batches - writerBefore.batches;
      ctx.log(`  gateway: ${messages} in ${seconds.toFixed(2)} s`);
      return {
        seconds,
        messagesPerSecond: messages / seconds,
        publishSeconds: (ackedAt - startedAt) / 1000,
        received,
        serverCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
        rssMbIdle: rssIdle,
        rssMbAfter: memory?.rssMb ?? null,
        peakRssMbAfter: memory?.peakRssMb ?? null,
        writer: {
          batches,
          meanBatch: batches > 0 ? (writerAfter.units - writerBefore.units) / batches : 0,
          busySeconds,
          busyShare: busySeconds / seconds,
        },
        subscriberErrors: subscriber.errors.length,
      };
    } catch (error) {
      throw await withGatewayLog(gw, error);
    } finally {
      await subscriber?.dispose();
      await endAll(clients);
      await gw.stop();
    }
  }
}

async function publishOne(client: import('mqtt').MqttClient, message: Outgoing): Promise<void> {
  await client.publishAsync(message.topic, message.payload, { qos: 1 });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => (e as { message?: string }).message ?? String(e)).join('; ');
  return JSON.stringify(error);
}
