import { join } from 'node:path';
import { explainFailure, startGatewayProcess, tempDir } from '../lib/gateway';
import { graphql, keepAliveAgent, send } from '../lib/http';
import { spawnBaseline } from '../lib/proc';
import { seedDatabase, type Seeded } from '../lib/seed';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';

const WARM_UP = 20;

/**
 * The dashboard's landing query: a page of 50 tasks with their status counts
 * and sub-tasks, with the dashboard's own fragments (dashboard/src/graphql.ts).
 * (Written out inline, the same selection is refused by the cost limit: armor
 * costs fragments less than inline fields.)
 */
export const DASHBOARD_QUERY = /* GraphQL */ `
  query BenchDashboard($first: Int!) {
    upgradeTasks(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...TaskFields statusCounts { status count } subTasks { nodes { ...SubTaskFields } } } }
    }
  }
  fragment TaskFields on UpgradeTask {
    id source kind externalId gatewaySn status progress createdAt updatedAt
  }
  fragment SubTaskFields on UpgradeSubTask {
    id deviceId status vendorStatus step percent
    sourceVersion currentVersion targetVersion statusDesc errorCode updatedAt
  }
`;

/** A device's history page: its sub-tasks, newest first, each with its task and events (within the cost limit). */
export const HISTORY_QUERY = /* GraphQL */ `
  query BenchDeviceHistory($deviceId: String!) {
    upgradeSubTasks(first: 20, filter: { deviceId: $deviceId }) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id deviceId status vendorStatus step percent currentVersion targetVersion updatedAt
          task { id source externalId status }
          events { nodes { id status vendorStatus percent step errorCode applied occurredAt } }
        }
      }
    }
  }
`;

export interface QueryRun {
  readonly dashboardMs: Distribution;
  readonly historyMs: Distribution;
  readonly dashboardBytes: number;
  readonly historyBytes: number;
}

export interface QueryResult {
  readonly requests: number;
  readonly seeded: Omit<Seeded, 'deviceIds'>;
  readonly gateway: QueryRun;
  readonly baseline: QueryRun;
}

/**
 * Scenario 4: with `events` progress events and `tasks` tasks stored, the
 * latency of the dashboard query and of a device's history page, each over
 * `requests` sequential requests on one keep-alive connection. Baseline: the
 * same reads as plain SQL on the sqlite3 driver behind a bare HTTP server.
 */
export async function query(ctx: ScenarioContext): Promise<QueryResult> {
  const { tasks, events, requests } = ctx.options;
  const dir = tempDir('query');
  const path = join(dir, 'bench.sqlite');
  ctx.log(`query: seeding ${tasks} tasks and ${events} progress events`);
  const seeded = await seedDatabase(path, tasks, events);
  ctx.log(`  seeded in ${seeded.seconds.toFixed(1)} s (${seeded.fileMb.toFixed(1)} MB)`);
  const { deviceIds, ...counts } = seeded;
  const device = (i: number) => deviceIds[(i * 7919) % deviceIds.length];

  ctx.log(`query: gateway, ${requests} requests each`);
  const gw = await startGatewayProcess({ label: 'query', dir, cpuProfileDir: ctx.profileDir ?? undefined });
  let gateway: QueryRun;
  const agent = keepAliveAgent(1);
  try {
    const dashboard = async () => {
      const r = await graphql<{ upgradeTasks: { edges: unknown[] } }>(agent, gw.port, DASHBOARD_QUERY, { first: 50 });
      if (r.data.upgradeTasks.edges.length !== Math.min(50, tasks)) throw new Error('dashboard page has the wrong size');
      return r;
    };
    const history = async (i: number) => {
      const r = await graphql<{ upgradeSubTasks: { edges: unknown[] } }>(agent, gw.port, HISTORY_QUERY, { deviceId: device(i) });
      if (r.data.upgradeSubTasks.edges.length === 0) throw new Error(`no history for ${device(i)}`);
      return r;
    };
    gateway = await explainFailure(gw, () => measure(dashboard, history));
  } finally {
    agent.destroy();
    await gw.stop();
  }
  ctx.log(`  gateway: dashboard p99 ${gateway.dashboardMs.p99.toFixed(1)} ms, history p99 ${gateway.historyMs.p99.toFixed(1)} ms`);

  ctx.log(`query: baseline (raw SQL on sqlite3 behind node:http)`);
  const { child, port } = await spawnBaseline('sql baseline', 'sql-server.js', { BENCH_DB: path });
  const baseAgent = keepAliveAgent(1);
  let baseline: QueryRun;
  try {
    const get = async (url: string) => {
      const r = await send(baseAgent, port, 'GET', url);
      if (r.status !== 200) throw new Error(`baseline answered ${r.status}: ${r.body.slice(0, 300)}`);
      return { ms: r.ms, bytes: Buffer.byteLength(r.body) };
    };
    baseline = await measure(
      () => get('/dashboard'),
      (i) => get(`/history?deviceId=${encodeURIComponent(device(i))}`),
    );
  } finally {
    baseAgent.destroy();
    await child.stop();
  }
  ctx.log(`  baseline: dashboard p99 ${baseline.dashboardMs.p99.toFixed(1)} ms, history p99 ${baseline.historyMs.p99.toFixed(1)} ms`);
  return { requests, seeded: counts, gateway, baseline };

  async function measure(
    dashboard: () => Promise<{ ms: number; bytes: number }>,
    history: (i: number) => Promise<{ ms: number; bytes: number }>,
  ): Promise<QueryRun> {
    for (let i = 0; i < WARM_UP; i++) {
      await dashboard();
      await history(requests + i);
    }
    const dashboardMs: number[] = [];
    const historyMs: number[] = [];
    let dashboardBytes = 0;
    let historyBytes = 0;
    const deadline = Date.now() + 120_000 + requests * 1_000;
    for (let i = 0; i < requests && Date.now() < deadline; i++) {
      const r = await dashboard();
      dashboardMs.push(r.ms);
      dashboardBytes = r.bytes;
    }
    for (let i = 0; i < requests && Date.now() < deadline; i++) {
      const r = await history(i);
      historyMs.push(r.ms);
      historyBytes = r.bytes;
    }
    if (historyMs.length < requests) throw new Error('query scenario ran out of time');
    return { dashboardMs: distribution(dashboardMs), historyMs: distribution(historyMs), dashboardBytes, historyBytes };
  }
}
