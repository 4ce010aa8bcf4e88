import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { metricValue, startGatewayProcess, withGatewayLog } from '../lib/gateway';
import { openFilesLimit } from '../lib/machine';
import { connectMqtt, endAll } from '../lib/mqtt-load';
import { dockSn, otaProgress, PROGRESS_SUBSCRIPTION } from '../lib/payloads';
import { memoryOf, sleep, spawnBaseline, withTimeout } from '../lib/proc';
import { distribution, type Distribution } from '../lib/stats';
import { openSubscribers, waitSubscriptions, warmUp, type GraphqlSubscriber } from '../lib/subscribers';
import type { ScenarioContext } from './context';

/** Longest one round may take before the scenario gives up. */
const ROUND_TIMEOUT_MS = 20_000;
/** Pause between rounds so that they do not overlap. */
const ROUND_GAP_MS = 100;

export interface FanoutRun {
  /** Publish (or trigger) to receipt, every subscriber of every round. */
  readonly latencyMs: Distribution;
  /** Publish to receipt by the last subscriber, per round. */
  readonly lastReceiptMs: Distribution;
  /** Server process RSS before any socket, with every subscriber connected and idle, and after the rounds. */
  readonly rssMbIdle: number | null;
  readonly rssMbWithSubscribers: number | null;
  readonly rssMbAfterRounds: number | null;
  /** Gateway only: V8 heap used and reserved after the rounds (its /metrics), to tell live data from heap growth in RSS. */
  readonly heapMbAfterRounds?: { readonly used: number; readonly total: number; readonly external: number };
  /** Time to open every socket and subscription. */
  readonly setupSeconds: number;
  /**
   * Gateway only, medians over the rounds (wall clock, the event's own
   * receivedAt splitting the path): publish → the gateway received the MQTT
   * message; → the first subscriber got the event (commit, publication, first
   * execution); → the last subscriber got it (fan-out proper).
   */
  readonly breakdownMs?: { readonly mqttHop: number; readonly toFirstReceipt: number; readonly firstToLast: number };
}

export interface FanoutResult {
  readonly subscribers: number;
  readonly rounds: number;
  readonly payloadBytes: number;
  readonly gateway: FanoutRun;
  readonly baseline: FanoutRun;
}

/**
 * Scenario 3 (and the memory figures of scenario 5): one progress event to K
 * graphql-ws subscribers (K sockets, one subscription each), R times, each
 * triggered by one `ota_progress` published over MQTT and timed from the
 * publish to receipt at every subscriber. Baseline: the same payload sent by a
 * bare `ws` server to K sockets, triggered by a message from the bench; the
 * same graphql-ws clients receive both, so the client side costs the same.
 */
export async function fanout(ctx: ScenarioContext): Promise<FanoutResult> {
  const { subscribers: k, rounds } = ctx.options;
  const limit = openFilesLimit();
  if (limit !== null && limit < k + 256) {
    throw new Error(`open-file limit ${limit} is too low for ${k} sockets: raise it (ulimit -n ${k * 2 + 512}) or pass --subscribers`);
  }
  ctx.log(`fan-out: gateway, ${k} graphql-ws subscribers, ${rounds} rounds`);
  const { run: gateway, payload } = await gatewayRun();
  ctx.log(`  gateway: p50 ${gateway.latencyMs.p50.toFixed(1)} ms, p99 ${gateway.latencyMs.p99.toFixed(1)} ms`);
  ctx.log(`fan-out: baseline (bare ws server), ${k} sockets, ${rounds} rounds`);
  const baseline = await baselineRun(payload);
  ctx.log(`  baseline: p50 ${baseline.latencyMs.p50.toFixed(1)} ms, p99 ${baseline.latencyMs.p99.toFixed(1)} ms`);
  return { subscribers: k, rounds, payloadBytes: Buffer.byteLength(payload), gateway, baseline };

  /** Bookkeeping of receipts for the warm-up and the rounds. */
  function receipts() {
    const receivedAt = new Float64Array(k);
    const warmSeen = new Uint8Array(k);
    let warmCount = 0;
    let phase: 'warm' | 'round' = 'warm';
    let remaining = 0;
    let roundDone: () => void = () => undefined;
    return {
      get warmCount() {
        return warmCount;
      },
      /** The first payload of the current round. */
      first: undefined as unknown,
      firstAt: 0,
      receive(index: number, value?: unknown) {
        if (phase === 'warm') {
          if (!warmSeen[index]) {
            warmSeen[index] = 1;
            warmCount++;
          }
        } else if (receivedAt[index] === 0) {
          receivedAt[index] = performance.now();
          if (remaining === k) {
            this.first = value;
            this.firstAt = receivedAt[index];
          }
          if (--remaining === 0) roundDone();
        }
      },
      /** Runs one round: `trigger` is called right after the start time is taken. */
      async round(trigger: () => void): Promise<{ latencies: number[]; last: number; started: number }> {
        phase = 'round';
        receivedAt.fill(0);
        remaining = k;
        const done = new Promise<void>((resolve) => (roundDone = resolve));
        const started = performance.now();
        trigger();
        await withTimeout(done, ROUND_TIMEOUT_MS, `a round to reach ${k} subscribers (reached ${k - remaining})`);
        const latencies = Array.from(receivedAt, (t) => t - started);
        return { latencies, last: Math.max(...latencies), started };
      },
    };
  }

  async function gatewayRun(): Promise<{ run: FanoutRun; payload: string }> {
    const gw = await startGatewayProcess({ label: 'fanout', cpuProfileDir: ctx.profileDir ?? undefined });
    let subscribers: GraphqlSubscriber[] = [];
    const clients = [];
    try {
      await sleep(1_000);
      const rssMbIdle = memoryOf(gw.pid)?.rssMb ?? null;
      const state = receipts();
      let payload = '';
      let failure: unknown = null;
      const setupStarted = performance.now();
      subscribers = await openSubscribers(
        gw.wsUrl,
        PROGRESS_SUBSCRIPTION,
        k,
        (index, value) => {
          if (payload === '') payload = JSON.stringify(value);
          state.receive(index, value);
        },
        (error) => (failure ??= error),
      );
      await waitSubscriptions(() => gw.metrics(), k, 60_000);
      const setupSeconds = (performance.now() - setupStarted) / 1000;
      const publisher = await connectMqtt(gw.mqttUrl, `bench-fanout-${process.pid}`, undefined, dockSn(0));
      clients.push(publisher);
      const run = randomUUID().slice(0, 8);
      let tid = 0;
      const publish = () => {
        const message = otaProgress({ run, bid: 0, tid: tid++, percent: Math.min(99, tid), timestamp: Date.now() });
        return publisher.publishAsync(message.topic, message.payload, { qos: 1 }).then(() => undefined);
      };
      await warmUp(publish, () => state.warmCount, k);
      await sleep(2_000);
      const rssMbWithSubscribers = memoryOf(gw.pid)?.rssMb ?? null;
      const all: number[] = [];
      const last: number[] = [];
      const hop: number[] = [];
      const toFirst: number[] = [];
      const firstToLast: number[] = [];
      for (let r = 0; r < rounds; r++) {
        if (failure) throw new Error(`a subscription failed: ${JSON.stringify(failure)}`);
        const result = await state.round(() => void publish().catch((error) => (failure ??= error)));
        all.push(...result.latencies);
        last.push(result.last);
        const gatewayReceivedAt = Date.parse(
          (state.first as { data?: { upgradeProgress?: { event?: { receivedAt?: string } } } })?.data?.upgradeProgress?.event?.receivedAt ?? '',
        );
        const wall = (t: number) => performance.timeOrigin + t;
        if (Number.isFinite(gatewayReceivedAt)) {
          hop.push(gatewayReceivedAt - wall(result.started));
          toFirst.push(wall(state.firstAt) - gatewayReceivedAt);
        }
        firstToLast.push(result.started + result.last - state.firstAt);
        await sleep(ROUND_GAP_MS);
      }
      await sleep(500);
      const rssMbAfterRounds = memoryOf(gw.pid)?.rssMb ?? null;
      const metrics = await gw.metrics();
      const mb = (name: string) => metricValue(metrics, name) / 1024 / 1024;
      const heapMbAfterRounds = {
        used: mb('nodejs_heap_size_used_bytes'),
        total: mb('nodejs_heap_size_total_bytes'),
        external: mb('nodejs_external_memory_bytes'),
      };
      return {
        run: {
          latencyMs: distribution(all),
          lastReceiptMs: distribution(last),
          rssMbIdle,
          rssMbWithSubscribers,
          rssMbAfterRounds,
          heapMbAfterRounds,
          setupSeconds,
          breakdownMs: {
            mqttHop: distribution(hop).p50,
            toFirstReceipt: distribution(toFirst).p50,
            firstToLast: distribution(firstToLast).p50,
          },
        },
        payload,
      };
    } catch (error) {
      throw await withGatewayLog(gw, error);
    } finally {
      await Promise.all(subscribers.map((s) => s.dispose()));
      await endAll(clients);
      await gw.stop();
    }
  }

  async function baselineRun(payload: string): Promise<FanoutRun> {
    const { child, port } = await spawnBaseline('ws baseline', 'ws-server.js');
    const url = `ws://127.0.0.1:${port}/graphql`;
    let subscribers: GraphqlSubscriber[] = [];
    let control: WebSocket | undefined;
    try {
      await sleep(1_000);
      const rssMbIdle = memoryOf(child.pid)?.rssMb ?? null;
      const state = receipts();
      const setupStarted = performance.now();
      subscribers = await openSubscribers(url, PROGRESS_SUBSCRIPTION, k, (index) => state.receive(index));
      const socket = await openSocket(url);
      control = socket;
      await withTimeout(
        new Promise<void>((resolve) => {
          socket.once('message', () => resolve());
          socket.send(JSON.stringify({ type: 'bench_payload', data: payload }));
        }),
        10_000,
        'the baseline server to take the payload',
      );
      const setupSeconds = (performance.now() - setupStarted) / 1000;
      const trigger = () => socket.send('{"type":"bench_trigger"}');
      await warmUp(async () => trigger(), () => state.warmCount, k);
      await sleep(2_000);
      const rssMbWithSubscribers = memoryOf(child.pid)?.rssMb ?? null;
      const all: number[] = [];
      const last: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const result = await state.round(trigger);
        all.push(...result.latencies);
        last.push(result.last);
        await sleep(ROUND_GAP_MS);
      }
      await sleep(500);
      const rssMbAfterRounds = memoryOf(child.pid)?.rssMb ?? null;
      return {
        latencyMs: distribution(all),
        lastReceiptMs: distribution(last),
        rssMbIdle,
        rssMbWithSubscribers,
        rssMbAfterRounds,
        setupSeconds,
      };
    } finally {
      control?.terminate();
      await Promise.all(subscribers.map((s) => s.dispose()));
      await child.stop();
    }
  }
}

/** A plain WebSocket (the baseline's control connection). */
function openSocket(url: string): Promise<WebSocket> {
  return withTimeout(
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    }),
    10_000,
    'a WebSocket connection',
  );
}
