import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';
import { cpuSecondsOf, memoryOf, sleep, until } from '../lib/proc';
import { startGatewayProcess, withGatewayLog, type GatewayProcess } from '../lib/gateway';
import { graphql, keepAliveAgent } from '../lib/http';
import { openFilesLimit } from '../lib/machine';
import { connectMqtt, endAll } from '../lib/mqtt-load';
import { openSubscriber, waitSubscriptions, type GraphqlSubscriber } from '../lib/subscribers';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';
import { DASHBOARD_QUERY } from './query';

/** The bounds for "sustained": what a user may rely on at that fleet size. */
export const FLEET_BOUNDS = {
  latencyP99Ms: 100,
  rssMb: 300,
  /** Share of the offered rate that must be recorded and delivered within the run. */
  sustainedShare: 0.98,
};

/** How the subscribers split, in shares of K: one task each, one dock each, everything. */
const MIX = { task: 0.9, dock: 0.09, all: 0.01 };
/** Seconds docks report before the measured window opens (subscriptions settle, caches warm). */
const RAMP_SECONDS = 3;
/** Longest wait after the window for the last deliveries. */
const DRAIN_MS = 15_000;
/** How often the dashboard query runs during the window. */
const QUERY_EVERY_MS = 500;
/** Each search step grows (or shrinks) the fleet by this factor until the bounds flip, then bisects. */
const SEARCH_FACTOR = 1.5;
/** Search steps run shorter than the headline run, at most this long. */
const SEARCH_SECONDS = 20;
/**
 * Runs the search may add, beyond `--fleet-search`, while no size it tried has
 * held: shrinking by 1.5x each, 5 more reach a fleet 7.6 times smaller.
 */
const EXTRA_SHRINKING_RUNS = 5;

/** One fleet run at one size. */
export interface FleetStep {
  readonly docks: number;
  readonly subscribers: number;
  readonly seconds: number;
  /** Messages published in the window, and acknowledged (committed) by the gateway. */
  readonly sent: number;
  readonly acked: number;
  /** Acknowledged messages per second over the window: the rate the gateway kept up with. */
  readonly sustainedPerSecond: number;
  /** Publish (the report's own timestamp) → a subscriber's receipt, every receipt of the window. */
  readonly latencyMs: Distribution;
  /** Deliveries the subscriptions should have made for the window's messages, and those not received 15 s after the window. */
  readonly expectedDeliveries: number;
  readonly lostDeliveries: number;
  /** The dashboard's page of 50 tasks, run every 500 ms meanwhile. */
  readonly queryMs: Distribution;
  readonly rssMbMax: number | null;
  /** Gateway CPU over the window, in cores (2.0 = both cores of this machine). */
  readonly gatewayCores: number | null;
  /** The bench's own CPU (docks and subscribers) over the window, in cores. */
  readonly clientCores: number;
  readonly met: boolean;
}

export interface FleetResult {
  /** The run at the asked size (`--fleet-docks`, `--fleet-seconds`). */
  readonly headline: FleetStep;
  /** The search for the largest fleet within the bounds, in the order run. */
  readonly search: readonly FleetStep[];
  /** The largest fleet size that met the latency bounds (rate, p99, nothing missing), or null if none did. */
  readonly largestSustained: number | null;
}

/**
 * The fleet-sized headline (issue 19, point 3): N docks, each a real MQTT
 * connection reporting one `ota_progress` a second during its upgrade, K
 * graphql-ws subscribers (90 % one task each, 9 % one dock each, 1 %
 * everything), the dashboard's landing query every half second, for
 * `--fleet-seconds`. Then, unless `--fleet-search 0`, looks for the largest
 * fleet it sustains: grows N by 1.5× per step while the bounds hold (or, when
 * the asked size did not hold, starts from 80 % of the rate it kept up with
 * and shrinks, with up to five runs more than asked until one holds), then
 * bisects between the largest that held and the smallest that did not.
 */
export async function fleet(ctx: ScenarioContext): Promise<FleetResult> {
  const { fleetDocks, fleetSubscribers, fleetSeconds, fleetSearch } = ctx.options;
  const limit = openFilesLimit();
  const worst = Math.round(fleetDocks * SEARCH_FACTOR ** fleetSearch) + fleetSubscribers + 512;
  if (limit !== null && limit < worst) {
    throw new Error(`open-file limit ${limit} is too low for ${worst} sockets: raise it (ulimit -n ${worst * 2}) or pass smaller --fleet-docks/--fleet-subscribers`);
  }
  const headline = await step(ctx, fleetDocks, fleetSubscribers, fleetSeconds);
  const search: FleetStep[] = [];
  let largest: number | null = headline.met ? fleetDocks : null;
  let smallestFailed: number | null = headline.met ? null : fleetDocks;
  // Not sustained: start near what it did sustain, rather than walking down from the asked size.
  let size = headline.met ? Math.round(fleetDocks * SEARCH_FACTOR) : Math.max(10, Math.round(Math.min(fleetDocks / SEARCH_FACTOR, headline.sustainedPerSecond * 0.8)));
  // A search that has not found a size that holds goes on shrinking (a few runs more at most): it must print a number.
  for (let i = 0; fleetSearch > 0 && size >= 10 && (i < fleetSearch || (largest === null && i < fleetSearch + EXTRA_SHRINKING_RUNS)); i++) {
    const result = await step(ctx, size, fleetSubscribers, Math.min(fleetSeconds, SEARCH_SECONDS));
    search.push(result);
    if (result.met) largest = Math.max(largest ?? 0, size);
    else smallestFailed = Math.min(smallestFailed ?? Number.POSITIVE_INFINITY, size);
    // Grow by 1.5x until it breaks, shrink by 1.5x until it holds, then halve the gap between the two.
    if (largest === null) size = Math.round(size / SEARCH_FACTOR);
    else if (smallestFailed === null) size = Math.round(size * SEARCH_FACTOR);
    else {
      const next = Math.round((largest + smallestFailed) / 2);
      if (smallestFailed - largest <= Math.max(50, largest * 0.1)) break;
      size = next;
    }
  }
  return { headline, search, largestSustained: largest };
}

async function step(ctx: ScenarioContext, docks: number, subscribers: number, seconds: number): Promise<FleetStep> {
  ctx.log(`fleet: ${docks} docks × 1 ota_progress/s, ${subscribers} subscribers, ${seconds} s`);
  const gw = await startGatewayProcess({
    label: `fleet-${docks}`,
    cpuProfileDir: ctx.profileDir ?? undefined,
    // Every dock connects from this one host: the per-address cap (a safety default) is lifted for the bench.
    env: { MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(docks + 100), MQTT_MAX_CONNECTIONS: String(docks + 1000) },
  });
  const clients: MqttClient[] = [];
  const sockets: GraphqlSubscriber[] = [];
  const agent = keepAliveAgent(2);
  try {
    const run = randomUUID().slice(0, 8);
    const sn = (d: number) => `FLEET${run.toUpperCase()}${String(d).padStart(5, '0')}`;
    const report = (d: number, second: number, timestamp: number) => ({
      topic: `thing/product/${sn(d)}/events`,
      payload: JSON.stringify({
        tid: `${run}-${d}-${second}`,
        bid: `${run}-bid-${d}`,
        timestamp,
        method: 'ota_progress',
        gateway: sn(d),
        need_reply: 0,
        data: {
          result: 0,
          output: { status: 'in_progress', progress: { percent: Math.min(99, second), current_step: second < 50 ? 'download_firmware' : 'upgrade_firmware' } },
        },
      }),
    });

    // 1. The docks connect and each starts its upgrade (its first report creates the task).
    for (let start = 0; start < docks; start += 100) {
      const batch = Array.from({ length: Math.min(100, docks - start) }, (_, j) => connectMqtt(gw.mqttUrl, sn(start + j), 30_000, sn(start + j)));
      clients.push(...(await Promise.all(batch)));
    }
    await Promise.all(
      clients.map((client, d) => {
        const first = report(d, 0, Date.now());
        return client.publishAsync(first.topic, first.payload, { qos: 1 });
      }),
    );
    const taskOf = await taskIds(gw, agent, docks);

    // 2. The subscribers: which of them each dock's report reaches.
    const reach = new Uint32Array(docks);
    const perTask = Math.round(subscribers * MIX.task);
    const perDock = Math.round(subscribers * MIX.dock);
    const everything = Math.max(subscribers > 0 ? 1 : 0, subscribers - perTask - perDock);
    const latencies: number[] = [];
    let received = 0;
    let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
    const onNext = (value: { data?: Record<string, unknown> | null }) => {
      const at = Date.now();
      const occurred = Date.parse(((value.data?.upgradeProgress as { event?: { occurredAt?: string } } | undefined)?.event?.occurredAt) ?? '');
      if (!(occurred >= window.from && occurred < window.to)) return;
      received++;
      latencies.push(at - occurred);
    };
    let failure: unknown = null;
    const open = async (variables: Record<string, unknown>) => {
      sockets.push(await openSubscriber(gw.wsUrl, FLEET_SUBSCRIPTION, onNext, (error) => (failure ??= error), 30_000, variables));
    };
    const plan: Record<string, unknown>[] = [];
    for (let i = 0; i < perTask; i++) {
      const d = i % docks;
      reach[d]++;
      plan.push({ taskId: taskOf[d] });
    }
    for (let i = 0; i < perDock; i++) {
      const d = (i * 7919) % docks;
      reach[d]++;
      plan.push({ gatewaySn: sn(d) });
    }
    for (let i = 0; i < everything; i++) plan.push({});
    if (everything > 0) for (let d = 0; d < docks; d++) reach[d] += everything;
    for (let start = 0; start < plan.length; start += 50) await Promise.all(plan.slice(start, start + 50).map(open));
    await waitSubscriptions(() => gw.metrics(), plan.length, 60_000);

    // 3. Every dock reports once a second, spread evenly over the second.
    const sent = new Uint32Array(docks);
    let sentInWindow = 0;
    let ackedInWindow = 0;
    let published = 0;
    const began = Date.now();
    const publishDue = () => {
      const due = Math.floor(((Date.now() - began) / 1000) * docks);
      for (; published < due; published++) {
        const d = published % docks;
        const second = 1 + Math.floor(published / docks);
        const timestamp = Date.now();
        const inWindow = timestamp >= window.from && timestamp < window.to;
        if (timestamp >= window.to) return;
        const message = report(d, second, timestamp);
        if (inWindow) {
          sent[d]++;
          sentInWindow++;
        }
        clients[d].publish(message.topic, message.payload, { qos: 1 }, (error) => {
          if (error) failure ??= error;
          else if (inWindow) ackedInWindow++;
        });
      }
    };
    const pump = setInterval(publishDue, 5);
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const m = memoryOf(gw.pid);
      if (m) rss.push(m.rssMb);
    }, 1000);
    const queryMs: number[] = [];
    let querying = true;
    const queries = (async () => {
      while (querying) {
        const started = performance.now();
        await graphql(agent, gw.port, DASHBOARD_QUERY, { first: 50 });
        queryMs.push(performance.now() - started);
        await sleep(QUERY_EVERY_MS);
      }
    })();
    try {
      await sleep(RAMP_SECONDS * 1000);
      const from = Date.now();
      window = { from, to: from + seconds * 1000 };
      const cpuFrom = cpuSecondsOf(gw.pid);
      const clientFrom = process.cpuUsage();
      await sleep(seconds * 1000);
      const cpuTo = cpuSecondsOf(gw.pid);
      const clientTo = process.cpuUsage(clientFrom);
      clearInterval(pump);
      const expected = sent.reduce((sum, count, d) => sum + count * reach[d], 0);
      await until(() => received >= expected && ackedInWindow >= sentInWindow, DRAIN_MS, 'the last deliveries', 50).catch(() => undefined);
      if (failure) throw new Error(`a dock or subscriber failed: ${JSON.stringify(failure)}`);
      const latency = distribution(latencies);
      const sustainedPerSecond = ackedInWindow / seconds;
      const lostDeliveries = Math.max(0, expected - received);
      const rssMbMax = rss.length ? Math.max(...rss) : null;
      const result: FleetStep = {
        docks,
        subscribers: plan.length,
        seconds,
        sent: sentInWindow,
        acked: ackedInWindow,
        sustainedPerSecond,
        latencyMs: latency,
        expectedDeliveries: expected,
        lostDeliveries,
        queryMs: distribution(queryMs),
        rssMbMax,
        gatewayCores: cpuFrom === null || cpuTo === null ? null : (cpuTo - cpuFrom) / seconds,
        clientCores: (clientTo.user + clientTo.system) / 1e6 / seconds,
        // The "sustains within those latency bounds": the rate kept, p99, nothing missing. RSS is a bound of the headline of its own.
        met: sustainedPerSecond >= docks * FLEET_BOUNDS.sustainedShare && latency.p99 < FLEET_BOUNDS.latencyP99Ms && lostDeliveries === 0,
      };
      ctx.log(
        `  ${result.met ? 'sustained' : 'NOT sustained'}: ${Math.round(sustainedPerSecond)} events/s of ${docks} offered, ` +
          `p50/p99/max ${latency.p50.toFixed(0)}/${latency.p99.toFixed(0)}/${latency.max.toFixed(0)} ms, ${lostDeliveries} of ${expected} deliveries lost, ` +
          `query p99 ${result.queryMs.p99.toFixed(0)} ms, RSS max ${rssMbMax?.toFixed(0)} MB, gateway ${result.gatewayCores?.toFixed(2)} cores, bench ${result.clientCores.toFixed(2)} cores`,
      );
      return result;
    } finally {
      clearInterval(pump);
      clearInterval(sampler);
      querying = false;
      await queries.catch(() => undefined);
    }
  } catch (error) {
    throw await withGatewayLog(gw, error);
  } finally {
    await Promise.all(sockets.map((s) => s.dispose()));
    await endAll(clients);
    agent.destroy();
    await gw.stop();
  }
}

/** What a live screen of one task, one dock or the whole fleet selects. */
const FLEET_SUBSCRIPTION = /* GraphQL */ `
  subscription FleetProgress($taskId: ID, $gatewaySn: String) {
    upgradeProgress(taskId: $taskId, gatewaySn: $gatewaySn) {
      cursor
      task { id status progress updatedAt }
      subTask { id deviceId status percent step updatedAt }
      event { id status percent step occurredAt receivedAt }
    }
  }
`;

/** The task id of each dock's upgrade (its bid), read page by page. */
async function taskIds(gw: GatewayProcess, agent: ReturnType<typeof keepAliveAgent>, docks: number): Promise<string[]> {
  const byDock = new Map<number, string>();
  await until(
    async () => {
      byDock.clear();
      let after: string | null = null;
      for (;;) {
        const page: { data: { upgradeTasks: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { id: string; externalId: string } }[] } } } =
          await graphql(agent, gw.port, TASK_IDS_QUERY, { after });
        for (const { node } of page.data.upgradeTasks.edges) {
          const dock = Number(/-bid-(\d+)$/.exec(node.externalId)?.[1]);
          if (Number.isInteger(dock)) byDock.set(dock, node.id);
        }
        if (!page.data.upgradeTasks.pageInfo.hasNextPage) break;
        after = page.data.upgradeTasks.pageInfo.endCursor;
      }
      return byDock.size >= docks;
    },
    60_000,
    `the ${docks} docks' tasks`,
    500,
  );
  return Array.from({ length: docks }, (_, d) => byDock.get(d)!);
}

const TASK_IDS_QUERY = /* GraphQL */ `
  query FleetTaskIds($after: String) {
    upgradeTasks(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id externalId } } }
  }
`;
