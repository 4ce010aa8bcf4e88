/**
 * `npm run bench`: the gateway's performance figures (issue 7), each beside a
 * baseline measured in the same run, as a table on stdout and as JSON in
 * bench/results/latest.json. See bench/README.md.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, USAGE, UsageError, type BenchOptions, type ScenarioName } from './lib/args';
import { cleanupAll, installCleanupHooks } from './lib/cleanup';
import { cpuAccount, loadAverage, machineInfo } from './lib/machine';
import { medianOf } from './lib/median';
import { REPO_ROOT } from './lib/proc';
import { formatTable, row, type Row } from './lib/report';
import type { ScenarioContext } from './scenarios/context';
import { fanout, type FanoutResult } from './scenarios/fanout';
import { mqttIngest, type MqttIngestResult } from './scenarios/mqtt-ingest';
import { query, type QueryResult } from './scenarios/query';
import { taskSize, type TaskSizeResult } from './scenarios/task-size';
import { inventory, type InventoryResult } from './scenarios/inventory';
import { rolloutBench, type RolloutBenchResult } from './scenarios/rollout';
import { fleet, FLEET_BOUNDS, type FleetResult, type FleetStep } from './scenarios/fleet';
import { webhookIngest, type WebhookIngestResult } from './scenarios/webhook-ingest';

/** The issue's targets. */
const TARGETS = {
  ingestTimeRatio: 2,
  fanoutP99Ms: 100,
  fanoutAtSubscribers: 1_000,
  dashboardP99Ms: 50,
  dashboardAtEvents: 100_000,
  rssMb: 250,
  /** A push into a task of 50 000 devices costs at most this much more than one into a task of 10. */
  taskSizeSpread: 1.2,
};

/** Above this share of the machine's CPU taken by other processes, a scenario's figures are flagged as noisy. */
const NOISY_SHARE = 0.1;

interface Results {
  mqtt?: MqttIngestResult;
  webhook?: WebhookIngestResult;
  fanout?: FanoutResult;
  query?: QueryResult;
  taskSize?: TaskSizeResult;
  inventory?: InventoryResult;
  rollout?: RolloutBenchResult;
  fleet?: FleetResult;
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  installCleanupHooks();
  const began = Date.now();
  const machine = machineInfo();
  const stamp = new Date(began).toISOString().replace(/[:.]/g, '-');
  const profileDir = options.profile ? join(REPO_ROOT, 'bench', 'results', 'profiles', stamp) : null;
  const ctx: ScenarioContext = {
    options,
    profileDir,
    log: (message) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${message}\n`),
  };
  ctx.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}` +
      `${options.smoke ? ' (smoke sizes)' : ''}`,
  );

  const results: Results = {};
  const errors: Partial<Record<ScenarioName, string>> = {};
  /**
   * Per scenario: the 1-minute load average when it started and ended, and the
   * share of the machine's CPU that other processes took meanwhile (noise).
   */
  const load: Partial<Record<ScenarioName, { before: number; after: number; otherCpuShare: number | null }>> = {};
  /** Every run of each scenario, as measured (the table shows their medians). */
  const runs: { [K in keyof Results]?: NonNullable<Results[K]>[] } = {};
  const repeated = async <K extends keyof Results>(name: K, measure: () => Promise<NonNullable<Results[K]>>) => {
    const all: NonNullable<Results[K]>[] = [];
    for (let i = 1; i <= options.repeat; i++) {
      if (options.repeat > 1) ctx.log(`${name}: run ${i} of ${options.repeat}`);
      all.push(await measure());
    }
    runs[name] = all as never;
    results[name] = medianOf(all);
  };
  const scenarios: Record<ScenarioName, () => Promise<void>> = {
    mqtt: () => repeated('mqtt', () => mqttIngest(ctx)),
    webhook: () => repeated('webhook', () => webhookIngest(ctx)),
    fanout: () => repeated('fanout', () => fanout(ctx)),
    query: () => repeated('query', () => query(ctx)),
    taskSize: () => repeated('taskSize', () => taskSize(ctx)),
    inventory: () => repeated('inventory', () => inventory(ctx)),
    rollout: () => repeated('rollout', () => rolloutBench(ctx)),
    fleet: () => repeated('fleet', () => fleet(ctx)),
  };
  for (const name of options.only) {
    const before = loadAverage();
    const cpuBefore = cpuAccount();
    const wallBefore = Date.now();
    try {
      await scenarios[name]();
    } catch (error) {
      errors[name] = (error as Error).stack ?? String(error);
      ctx.log(`${name} FAILED: ${(error as Error).message}`);
    }
    // Whatever a failed scenario left running is stopped before the next starts.
    await cleanupAll();
    const cpuAfter = cpuAccount();
    const capacity = ((Date.now() - wallBefore) / 1000) * machine.cores;
    const otherCpuShare =
      cpuBefore && cpuAfter
        ? Math.max(0, cpuAfter.machineSeconds - cpuBefore.machineSeconds - (cpuAfter.oursSeconds - cpuBefore.oursSeconds)) / capacity
        : null;
    load[name] = { before, after: loadAverage(), otherCpuShare };
    if (otherCpuShare !== null && otherCpuShare > NOISY_SHARE) {
      ctx.log(`warning: other processes took ${Math.round(otherCpuShare * 100)}% of the CPU during ${name}: its figures are noisy`);
    }
  }

  const rows = tableRows(options, results, errors);
  const notes = noteLines(results);
  if (options.repeat > 1) notes.unshift(spreadLine(options.repeat, runs));
  const noisiest = Math.max(0, ...Object.values(load).map((l) => l.otherCpuShare ?? 0));
  notes.push(
    `CPU taken by other processes during each scenario (share of all cores): ${Object.entries(load)
      .map(([name, l]) => `${name} ${l.otherCpuShare === null ? '?' : `${Math.round(l.otherCpuShare * 100)}%`}`)
      .join(', ')}` +
      (noisiest > NOISY_SHARE ? ' — other work was running: figures are noisy, run again on a quiet machine.' : ' (quiet machine).'),
  );
  const finished = Date.now();
  const header = [
    `OTA Gateway bench — ${new Date(began).toISOString()}${options.smoke ? ' — SMOKE sizes, not comparable' : ''}`,
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, Node ${machine.node}, ${machine.os}`,
    `Ratio = gateway cost / baseline cost (time, latency or memory; for rates baseline/gateway). Targets never fail the run.`,
  ];
  process.stdout.write(`\n${header.join('\n')}\n\n${formatTable(rows, options.markdown)}\n`);
  if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  for (const [name, error] of Object.entries(errors)) process.stdout.write(`\n${name} failed:\n${error}\n`);

  const out = options.out ?? join(REPO_ROOT, 'bench', 'results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  const json = {
    startedAt: new Date(began).toISOString(),
    durationSeconds: (finished - began) / 1000,
    machine,
    options,
    targets: TARGETS,
    rows,
    notes,
    load,
    results,
    runs,
    errors,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nWrote ${out} in ${((finished - began) / 1000).toFixed(0)} s.${profileDir ? ` CPU profiles in ${profileDir}.` : ''}\n`);
  // A figure missing is a failure (CI's smoke run relies on it); a target missed is not.
  return Object.keys(errors).length > 0 ? 1 : 0;
}

function tableRows(options: BenchOptions, r: Results, errors: Partial<Record<ScenarioName, string>>): Row[] {
  const rows: Row[] = [];
  const failed = (scenario: string, name: ScenarioName) => {
    if (errors[name]) rows.push(row(scenario, 'ERROR (see below)', '', null, null));
  };
  const ratioMet = (ratio: number | null) => (ratio === null ? null : ratio <= TARGETS.ingestTimeRatio);

  if (r.mqtt) {
    const m = r.mqtt;
    const s = `1 MQTT ingest (${m.messages.toLocaleString('en-US')} msgs)`;
    const throughput = row(s, 'messages/s, publish → graphql-ws', 'msg/s', m.gateway.messagesPerSecond, m.baseline.messagesPerSecond, {
      higherIsBetter: true,
      target: '≤ 2× bare time',
    });
    rows.push({ ...throughput, met: ratioMet(throughput.ratio) });
    const durable = row(s, 'messages/s vs durable baseline', 'msg/s', m.gateway.messagesPerSecond, m.durableBaseline.messagesPerSecond, {
      higherIsBetter: true,
      target: '≤ 2× durable time',
    });
    rows.push({ ...durable, met: ratioMet(durable.ratio) });
    rows.push(row(s, 'time until the last delivered', 's', m.gateway.seconds, m.baseline.seconds));
  } else failed('1 MQTT ingest', 'mqtt');

  if (r.webhook) {
    const w = r.webhook;
    const s = `2 Webhook ingest (${w.pushes.toLocaleString('en-US')}, c=${w.concurrency})`;
    const throughput = row(s, 'requests/s', 'req/s', w.gateway.requestsPerSecond, w.baseline.requestsPerSecond, {
      higherIsBetter: true,
      target: '≤ 2× bare time',
    });
    rows.push({ ...throughput, met: ratioMet(throughput.ratio) });
    const durable = row(s, 'requests/s vs durable baseline', 'req/s', w.gateway.requestsPerSecond, w.durableBaseline.requestsPerSecond, {
      higherIsBetter: true,
      target: '≤ 2× durable time',
    });
    rows.push({ ...durable, met: ratioMet(durable.ratio) });
    rows.push(row(s, 'latency p50', 'ms', w.gateway.latencyMs.p50, w.baseline.latencyMs.p50));
    rows.push(row(s, 'latency p99', 'ms', w.gateway.latencyMs.p99, w.baseline.latencyMs.p99));
  } else failed('2 Webhook ingest', 'webhook');

  if (r.fanout) {
    const f = r.fanout;
    const s = `3 Fan-out (${f.subscribers.toLocaleString('en-US')} subs × ${f.rounds})`;
    const sized = f.subscribers >= TARGETS.fanoutAtSubscribers;
    rows.push(row(s, 'publish → receipt p50', 'ms', f.gateway.latencyMs.p50, f.baseline.latencyMs.p50));
    rows.push(
      row(s, 'publish → receipt p99', 'ms', f.gateway.latencyMs.p99, f.baseline.latencyMs.p99, {
        target: `< ${TARGETS.fanoutP99Ms} ms @ 1 000 subs`,
        met: sized ? f.gateway.latencyMs.p99 < TARGETS.fanoutP99Ms : null,
      }),
    );
    rows.push(row(s, 'last subscriber of a round, p99', 'ms', f.gateway.lastReceiptMs.p99, f.baseline.lastReceiptMs.p99));
  } else failed('3 Fan-out', 'fanout');

  if (r.query) {
    const q = r.query;
    const s = `4 Query (${q.seeded.events.toLocaleString('en-US')} ev, ${q.seeded.tasks.toLocaleString('en-US')} tasks)`;
    const sized = q.seeded.events >= TARGETS.dashboardAtEvents;
    rows.push(row(s, 'dashboard (50 tasks) p50', 'ms', q.gateway.dashboardMs.p50, q.baseline.dashboardMs.p50));
    rows.push(
      row(s, 'dashboard (50 tasks) p99', 'ms', q.gateway.dashboardMs.p99, q.baseline.dashboardMs.p99, {
        target: `< ${TARGETS.dashboardP99Ms} ms @ 100 000 ev`,
        met: sized ? q.gateway.dashboardMs.p99 < TARGETS.dashboardP99Ms : null,
      }),
    );
    rows.push(row(s, 'device history p50', 'ms', q.gateway.historyMs.p50, q.baseline.historyMs.p50));
    rows.push(row(s, 'device history p99', 'ms', q.gateway.historyMs.p99, q.baseline.historyMs.p99));
  } else failed('4 Query', 'query');

  if (r.taskSize && r.taskSize.runs.length > 0) {
    const t = r.taskSize;
    const s = `6 Task size (${t.pushes.toLocaleString('en-US')} pushes, c=${t.concurrency})`;
    // Baseline column: the smallest task; the ratio is how much slower a push into the bigger task is.
    const smallest = t.runs[0];
    for (const run of t.runs) {
      const last = run === t.runs[t.runs.length - 1];
      rows.push(
        row(s, `pushes/s into a task of ${run.devices.toLocaleString('en-US')}`, 'req/s', run.pushesPerSecond, smallest.pushesPerSecond, {
          higherIsBetter: true,
          ...(last ? { target: `≤ ${TARGETS.taskSizeSpread}× across sizes`, met: t.spread <= TARGETS.taskSizeSpread } : {}),
        }),
      );
    }
  } else failed('6 Task size', 'taskSize');
  if (r.inventory) {
    const v = r.inventory;
    const s = `7 Inventory (${v.devices.toLocaleString('en-US')} devices)`;
    const sized = v.devices >= 10_000;
    rows.push(row(s, 'filtered devices page (50) p50', 'ms', v.devicesPageMs.p50, null));
    rows.push(
      row(s, 'filtered devices page (50) p99', 'ms', v.devicesPageMs.p99, null, { target: '< 50 ms @ 10 000 devices', met: sized ? v.devicesPageMs.p99 < 50 : null }),
    );
    rows.push(row(s, 'firmwareVersions p50', 'ms', v.firmwareVersionsMs.p50, null));
    rows.push(
      row(s, 'firmwareVersions p99', 'ms', v.firmwareVersionsMs.p99, null, { target: '< 50 ms @ 10 000 devices', met: sized ? v.firmwareVersionsMs.p99 < 50 : null }),
    );
  } else failed('7 Inventory', 'inventory');

  if (r.rollout) {
    const o = r.rollout;
    const s = `7 Rollout (${o.docks.toLocaleString('en-US')} docks, cap ${o.maxInProgress})`;
    rows.push(row(s, 'mean in flight while queued (pipe kept full)', 'devices', o.meanInFlight, null, { target: `close to ${o.maxInProgress}` }));
    rows.push(row(s, 'fewest in flight while queued', 'devices', o.minInFlight, null));
    rows.push(row(s, 'most in flight at any moment', 'devices', o.maxInFlight, null, { target: `≤ ${o.maxInProgress}`, met: o.maxInFlight <= o.maxInProgress }));
    rows.push(row(s, 'device finished → next ota_create p50', 'ms', o.finishToNextStartMs.p50, null));
    rows.push(row(s, 'device finished → next ota_create p99', 'ms', o.finishToNextStartMs.p99, null));
    rows.push(row(s, `whole rollout (each upgrade ${o.upgradeMs} ms)`, 's', o.seconds, null));
  } else if (options.only.includes('rollout')) failed('7 Rollout', 'rollout');

  if (r.fleet) {
    const h = r.fleet.headline;
    const s = `8 Fleet (${h.docks.toLocaleString('en-US')} docks × 1/s, ${h.subscribers.toLocaleString('en-US')} subs, ${h.seconds} s)`;
    const full = h.docks >= 2_000 && h.subscribers >= 1_000 && h.seconds >= 60;
    const rate = h.sustainedPerSecond >= h.docks * FLEET_BOUNDS.sustainedShare;
    rows.push(row(s, `events/s sustained (of ${h.docks.toLocaleString('en-US')} offered)`, 'ev/s', h.sustainedPerSecond, null, { target: '2 000 ev/s', met: full ? rate && h.docks >= 2_000 : null }));
    rows.push(row(s, 'publish → subscriber p50', 'ms', h.latencyMs.p50, null));
    rows.push(
      row(s, 'publish → subscriber p99', 'ms', h.latencyMs.p99, null, {
        target: `< ${FLEET_BOUNDS.latencyP99Ms} ms`,
        met: full ? h.latencyMs.p99 < FLEET_BOUNDS.latencyP99Ms : null,
      }),
    );
    rows.push(row(s, 'publish → subscriber max', 'ms', h.latencyMs.max, null));
    rows.push(row(s, 'deliveries missing 15 s after the window', '', h.lostDeliveries, null, { target: '0', met: h.lostDeliveries === 0 }));
    rows.push(row(s, 'dashboard query p99 meanwhile', 'ms', h.queryMs.p99, null));
    rows.push(
      row(s, 'gateway RSS, most', 'MB', h.rssMbMax, null, {
        target: `< ${FLEET_BOUNDS.rssMb} MB`,
        met: full && h.rssMbMax !== null ? h.rssMbMax < FLEET_BOUNDS.rssMb : null,
      }),
    );
    rows.push(row(s, 'gateway CPU', 'cores', h.gatewayCores, null));
    rows.push(
      row(s, 'largest fleet sustained within the bounds', 'docks', r.fleet.largestSustained, null, {
        target: r.fleet.search.length > 0 ? 'printed' : undefined,
      }),
    );
  } else failed('8 Fleet', 'fleet');

  const s5 = '5 Memory (RSS)';
  if (r.fanout) {
    const f = r.fanout;
    rows.push(row(s5, 'idle, no subscriber', 'MB', f.gateway.rssMbIdle, f.baseline.rssMbIdle));
    rows.push(
      row(s5, `${f.subscribers.toLocaleString('en-US')} idle subscriptions`, 'MB', f.gateway.rssMbWithSubscribers, f.baseline.rssMbWithSubscribers, {
        target: `< ${TARGETS.rssMb} MB @ 1 000 subs`,
        met:
          f.subscribers >= TARGETS.fanoutAtSubscribers && f.gateway.rssMbWithSubscribers !== null
            ? f.gateway.rssMbWithSubscribers < TARGETS.rssMb
            : null,
      }),
    );
  }
  if (r.fanout) {
    const f = r.fanout;
    rows.push(row(s5, `${f.subscribers.toLocaleString('en-US')} subscriptions, after the fan-out`, 'MB', f.gateway.rssMbAfterRounds, f.baseline.rssMbAfterRounds));
  }
  if (r.mqtt) {
    rows.push(row(s5, 'peak, by the end of MQTT ingest', 'MB', r.mqtt.gateway.peakRssMbAfter, r.mqtt.baseline.peakRssMbAfter));
    rows.push(row(s5, 'after MQTT ingest', 'MB', r.mqtt.gateway.rssMbAfter, r.mqtt.baseline.rssMbAfter));
  }
  if (!r.fanout && !r.mqtt && (errors.fanout || errors.mqtt)) rows.push(row(s5, 'ERROR (see below)', '', null, null));
  void options;
  return rows;
}

/** With --repeat: that the figures are medians, and how far the runs of the headline figures spread. */
function spreadLine(repeat: number, runs: { [K in keyof Results]?: NonNullable<Results[K]>[] }): string {
  const range = (values: number[], digits = 0) => {
    const f = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
    return `${f(Math.min(...values))}–${f(Math.max(...values))}`;
  };
  const parts: string[] = [];
  if (runs.mqtt) {
    parts.push(
      `MQTT ingest ${range(runs.mqtt.map((r) => r.gateway.messagesPerSecond))} msg/s (bare ${range(runs.mqtt.map((r) => r.baseline.messagesPerSecond))})`,
    );
  }
  if (runs.webhook) {
    parts.push(
      `webhook ${range(runs.webhook.map((r) => r.gateway.requestsPerSecond))} req/s (bare ${range(runs.webhook.map((r) => r.baseline.requestsPerSecond))})`,
    );
  }
  if (runs.fanout) parts.push(`fan-out p99 ${range(runs.fanout.map((r) => r.gateway.latencyMs.p99), 1)} ms`);
  if (runs.query) parts.push(`dashboard p99 ${range(runs.query.map((r) => r.gateway.dashboardMs.p99), 1)} ms`);
  if (runs.fleet) parts.push(`fleet p99 ${range(runs.fleet.map((r) => r.headline.latencyMs.p99), 1)} ms, largest fleet ${range(runs.fleet.map((r) => r.largestSustained ?? 0))} docks`);
  if (runs.taskSize) parts.push(`task-size spread ${range(runs.taskSize.map((r) => r.spread), 2)}×`);
  return `Every figure is the median of ${repeat} runs of its scenario (gateway and baseline measured in each). Spread over the runs: ${parts.join('; ')}.`;
}

/** Where the time went, for reading the table. */
function noteLines(r: Results): string[] {
  const notes: string[] = [];
  const f1 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '?' : n.toFixed(1));
  const f2 = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '?' : n.toFixed(2));
  if (r.mqtt) {
    const g = r.mqtt.gateway;
    notes.push(
      `MQTT ingest: the broker acknowledged every publish after ${f2(g.publishSeconds)} s (bare: ${f2(r.mqtt.baseline.publishSeconds)} s); ` +
        `the writer committed ${Math.round(g.writer.batches)} batches (mean ${f1(g.writer.meanBatch)} messages) and was inside a batch ` +
        `${f1(g.writer.busySeconds)} s = ${Math.round(g.writer.busyShare * 100)}% of the run; gateway CPU ${f1(g.serverCpuSeconds)} s ` +
        `(${Math.round(((g.serverCpuSeconds ?? NaN) / g.seconds) * 100)}% of one core), bare broker CPU ${f1(r.mqtt.baseline.serverCpuSeconds)} s.`,
    );
  }
  if (r.webhook) {
    const g = r.webhook.gateway;
    notes.push(
      `Webhook ingest: ${Math.round(g.writer.batches)} writer batches (mean ${f1(g.writer.meanBatch)} pushes), inside a batch ` +
        `${f1(g.writer.busySeconds)} s = ${Math.round(g.writer.busyShare * 100)}% of the run; gateway CPU ${f1(g.serverCpuSeconds)} s ` +
        `(${Math.round(((g.serverCpuSeconds ?? NaN) / g.seconds) * 100)}% of one core), bare server CPU ${f1(r.webhook.baseline.serverCpuSeconds)} s.`,
    );
  }
  if (r.fanout) {
    const f = r.fanout;
    const b = f.gateway.breakdownMs;
    const h = f.gateway.heapMbAfterRounds;
    notes.push(
      `Fan-out: payload ${f.payloadBytes} bytes; a round's median path: publish → gateway got the MQTT message ${f1(b?.mqttHop)} ms → ` +
        `first subscriber got the event (commit, publication, first execution) ${f1(b?.toFirstReceipt)} ms → last subscriber ${f1(b?.firstToLast)} ms ` +
        `(baseline first → last ${f1(f.baseline.lastReceiptMs.p50)} ms from the trigger); opening ${f.subscribers} subscriptions took ${f1(f.gateway.setupSeconds)} s; ` +
        `after the rounds the V8 heap held ${f1(h?.used)} MB in ${f1(h?.total)} MB reserved (external ${f1(h?.external)} MB) of the ${f1(f.gateway.rssMbAfterRounds)} MB RSS.`,
    );
  }
  if (r.query) {
    const q = r.query;
    notes.push(
      `Query: ${q.seeded.tasks} tasks, ${q.seeded.subTasks} sub-tasks on ${q.seeded.devices} devices, ${q.seeded.events} events ` +
        `(${f1(q.seeded.fileMb)} MB, seeded in ${f1(q.seeded.seconds)} s); answers ${q.gateway.dashboardBytes} / ${q.gateway.historyBytes} bytes ` +
        `(baseline ${q.baseline.dashboardBytes} / ${q.baseline.historyBytes}); ${q.requests} sequential requests each over one keep-alive connection.`,
    );
  }
  if (r.mqtt) notes.push(`MQTT durable baseline (aedes, PUBACK after a group commit into SQLite): ${Math.round(r.mqtt.durableBaseline.messagesPerSecond)} msg/s.`);
  if (r.webhook) notes.push(`Webhook durable baseline (node:http, 200 after a group commit into SQLite): ${Math.round(r.webhook.durableBaseline.requestsPerSecond)} req/s.`);
  if (r.taskSize) {
    notes.push(
      `Task size: ${r.taskSize.runs.map((t) => `${t.devices} devices ${Math.round(t.pushesPerSecond)} pushes/s (p99 ${t.latencyMs.p99.toFixed(1)} ms)`).join(', ')}; ` +
        `fastest / slowest ${r.taskSize.spread.toFixed(2)}× (target ≤ ${TARGETS.taskSizeSpread}×).`,
    );
  }
  if (r.rollout) {
    const o = r.rollout;
    const ideal = (Math.ceil(o.docks / o.maxInProgress) * o.upgradeMs) / 1000;
    notes.push(
      `Rollout: ${o.docks} light MQTT clients, one per dock (each accepts its ota_create and reports ok after ${o.upgradeMs} ms); in flight is counted as the docks see it, ` +
        `from each ota_create to its last report; the whole rollout took ${f1(o.seconds)} s against ${f1(ideal)} s with the pipe always full.`,
    );
  }
  if (r.fleet) {
    const step = (f: FleetStep) =>
      `${f.docks} docks ${f.met ? 'sustained' : 'NOT sustained'} (${Math.round(f.sustainedPerSecond)} ev/s, p99 ${f1(f.latencyMs.p99)} ms, ` +
      `${f.lostDeliveries} lost, RSS ${f1(f.rssMbMax)} MB, gateway ${f2(f.gatewayCores)} cores, bench clients ${f2(f.clientCores)} cores)`;
    const h = r.fleet.headline;
    notes.push(
      `Fleet: each dock is its own MQTT connection from the bench process; subscribers 90 % one task, 9 % one dock, 1 % every event; latency from the report's ` +
        `own timestamp to receipt. Headline: ${step(h)}; ${h.expectedDeliveries} deliveries expected in the window.` +
        (r.fleet.search.length > 0
          ? ` Search (${r.fleet.search[0].seconds} s each): ${r.fleet.search.map(step).join('; ')}. Largest sustained: ${r.fleet.largestSustained ?? 'none'} docks.`
          : ''),
    );
  }
  return notes;
}

main().then(
  async (code) => {
    await cleanupAll();
    process.exitCode = code;
    // Nothing should be left open; if something is, do not hang CI.
    setTimeout(() => process.exit(code), 3_000).unref();
  },
  async (error) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
    await cleanupAll();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 3_000).unref();
  },
);
