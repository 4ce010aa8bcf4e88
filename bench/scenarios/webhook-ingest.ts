import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { explainFailure, startGatewayProcess, writerStats } from '../lib/gateway';
import { keepAliveAgent, runConcurrently, send } from '../lib/http';
import { huaweiPush } from '../lib/payloads';
import { cpuSecondsOf, spawnBaseline } from '../lib/proc';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';

const CALLBACK_PATH = '/v1.0.0/messageReceiver';
const WARM_UP = 200;

export interface WebhookRun {
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Distribution;
  readonly serverCpuSeconds: number | null;
}

export interface WebhookIngestResult {
  readonly pushes: number;
  readonly concurrency: number;
  readonly gateway: WebhookRun & { readonly writer: { batches: number; meanBatch: number; busySeconds: number; busyShare: number } };
  readonly baseline: WebhookRun;
  /** A node:http server answering each push only once committed into SQLite. */
  readonly durableBaseline: WebhookRun;
}

/**
 * Scenario 2: `pushes` distinct Huawei pushes, `concurrency` in flight over
 * keep-alive connections, each answered once committed; baselines: a bare Node
 * HTTP server that parses the JSON and answers 200, and one that answers only
 * after a group commit of the push into SQLite (durable).
 */
export async function webhookIngest(ctx: ScenarioContext): Promise<WebhookIngestResult> {
  const { pushes, concurrency } = ctx.options;
  ctx.log(`webhook ingest: baseline (bare node:http), ${pushes} pushes, ${concurrency} in flight`);
  const { child, port } = await spawnBaseline('http baseline', 'http-server.js');
  let baseline: WebhookRun;
  try {
    baseline = await load(port, child.pid, 60_000 + pushes * 2, async () => undefined);
  } finally {
    await child.stop();
  }
  ctx.log(`  baseline: ${baseline.requestsPerSecond.toFixed(0)} requests/s`);
  ctx.log(`webhook ingest: durable baseline (node:http, 200 after a group commit into SQLite), ${pushes} pushes`);
  const durable = await spawnBaseline('durable http baseline', 'http-durable.js');
  let durableBaseline: WebhookRun;
  try {
    durableBaseline = await load(durable.port, durable.child.pid, 60_000 + pushes * 5, async () => undefined);
  } finally {
    await durable.child.stop();
  }
  ctx.log(`  durable baseline: ${durableBaseline.requestsPerSecond.toFixed(0)} requests/s`);

  ctx.log(`webhook ingest: gateway, ${pushes} pushes`);
  const gw = await startGatewayProcess({ label: 'webhook-ingest', cpuProfileDir: ctx.profileDir ?? undefined });
  try {
    let before = writerStats('');
    const run = await explainFailure(gw, () =>
      load(gw.port, gw.pid, 60_000 + pushes * 15, async () => {
        before = writerStats(await gw.metrics());
      }),
    );
    const after = writerStats(await gw.metrics());
    const batches = after.batches - before.batches;
    const busySeconds = after.commitSeconds - before.commitSeconds;
    ctx.log(`  gateway: ${run.requestsPerSecond.toFixed(0)} requests/s`);
    return {
      pushes,
      concurrency,
      gateway: {
        ...run,
        writer: {
          batches,
          meanBatch: batches > 0 ? (after.units - before.units) / batches : 0,
          busySeconds,
          busyShare: busySeconds / run.seconds,
        },
      },
      baseline,
      durableBaseline,
    };
  } finally {
    await gw.stop();
  }

  /** Warms up with pushes of their own, then sends the measured ones. */
  async function load(port: number, pid: number, timeoutMs: number, beforeRun: () => Promise<void>): Promise<WebhookRun> {
    const agent = keepAliveAgent(concurrency);
    try {
      const post = async (body: string): Promise<number> => {
        const result = await send(agent, port, 'POST', CALLBACK_PATH, body, { 'content-type': 'application/json' });
        if (result.status !== 200) throw new Error(`push answered ${result.status}: ${result.body.slice(0, 300)}`);
        return result.ms;
      };
      const warm = `warm-${randomUUID().slice(0, 8)}`;
      await runConcurrently(WARM_UP, concurrency, Date.now() + 60_000, async (i) => void (await post(huaweiPush(warm, i, WARM_UP))));
      const run = randomUUID().slice(0, 8);
      const bodies = Array.from({ length: pushes }, (_, i) => huaweiPush(run, i, pushes));
      const latencies = new Array<number>(pushes);
      await beforeRun();
      const cpuBefore = cpuSecondsOf(pid);
      const started = performance.now();
      await runConcurrently(pushes, concurrency, Date.now() + timeoutMs, async (i) => {
        latencies[i] = await post(bodies[i]);
      });
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = cpuSecondsOf(pid);
      return {
        seconds,
        requestsPerSecond: pushes / seconds,
        latencyMs: distribution(latencies),
        serverCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
      };
    } finally {
      agent.destroy();
    }
  }
}
