import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { openDatabase } from '../../src/store/data-source';
import { explainFailure, startGatewayProcess, tempDir } from '../lib/gateway';
import { graphql, keepAliveAgent } from '../lib/http';
import { distribution, type Distribution } from '../lib/stats';
import type { ScenarioContext } from './context';

const WARM_UP = 20;

/** A filtered page of the Devices view: one model, no consistency upgrade needed, not on the newest version. */
export const DEVICES_PAGE_QUERY = /* GraphQL */ `
  query BenchDevices($filter: DeviceFilter, $after: String) {
    devices(first: 50, filter: $filter, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id source deviceId gatewaySn model modelName firmwareVersion consistencyUpgradeNeeded upgrading online lastSeenAt } }
    }
  }
`;

export const FIRMWARE_VERSIONS_QUERY = /* GraphQL */ `
  query BenchFirmwareVersions { firmwareVersions { model modelName firmwareVersion count } }
`;

/** Models and versions of the seeded fleet: docks with their aircraft, as the fleet simulator mixes them. */
const FLEET = [
  { dock: '3-1-0', aircraft: ['0-67-0', '0-67-1'], versions: ['10.01.0205', '10.01.1612', '10.01.2003'] },
  { dock: '3-2-0', aircraft: ['0-91-0', '0-91-1'], versions: ['10.01.3202', '10.01.3205', '10.02.0107'] },
  { dock: '3-3-0', aircraft: ['0-100-0', '0-100-1'], versions: ['01.00.0001', '01.01.0102'] },
];

export interface InventoryResult {
  readonly devices: number;
  readonly requests: number;
  readonly devicesPageMs: Distribution;
  readonly firmwareVersionsMs: Distribution;
}

/** TypeORM's SQLite datetime text (UTC, milliseconds). */
function sqliteDate(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Writes `devices` devices (half docks, half their aircraft) through the gateway's migrations and raw inserts. */
async function seedDevices(path: string, devices: number): Promise<void> {
  await (await openDatabase({ engine: 'sqlite', path })).destroy();
  const db = new sqlite3.Database(path);
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  const columns = ['id', 'source', 'device_id', 'gateway_sn', 'model', 'model_name', 'firmware_version', 'software_version',
    'consistency_upgrade_needed', 'upgrading', 'online', 'last_seen_at', 'created_at', 'updated_at'];
  const rows: unknown[][] = [];
  const now = Date.now();
  for (let i = 0; rows.length < devices; i++) {
    const fleet = FLEET[i % FLEET.length];
    const dock = `BENCHDOCK${String(i).padStart(6, '0')}`;
    const online = i % 10 !== 0 ? 1 : 0;
    const at = sqliteDate(now - (i % 1000) * 1000);
    rows.push([randomUUID(), 'DJI', dock, dock, fleet.dock, null, fleet.versions[i % fleet.versions.length], null, i % 7 === 0 ? 1 : 0, 0, online, at, at, at]);
    if (rows.length < devices) {
      rows.push([randomUUID(), 'DJI', `${dock}UAV`, dock, fleet.aircraft[i % 2], null, fleet.versions[(i + 1) % fleet.versions.length], null,
        i % 5 === 0 ? 1 : 0, i % 50 === 0 ? 1 : 0, online, at, at, at]);
    }
  }
  try {
    await run('PRAGMA synchronous = OFF');
    await run('BEGIN');
    const perStatement = Math.floor(30_000 / columns.length);
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const marks = `(${columns.map(() => '?').join(',')})`;
      await run(`INSERT INTO "device" (${columns.map((c) => `"${c}"`).join(',')}) VALUES ${chunk.map(() => marks).join(',')}`, chunk.flat());
    }
    await run('COMMIT');
    await run('ANALYZE');
    await run('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/**
 * The inventory scenario: with `devices` devices stored, the latency of a
 * filtered `devices` page (a model, a flag, not on a version, keyset pages
 * walked in turn) and of `firmwareVersions`, each over `requests` sequential
 * requests on one keep-alive connection. No baseline: the figure to read is
 * the p99 against the issue's 50 ms.
 */
export async function inventory(ctx: ScenarioContext): Promise<InventoryResult> {
  const { devices, requests } = ctx.options;
  const dir = tempDir('inventory');
  const path = join(dir, 'bench.sqlite');
  ctx.log(`inventory: seeding ${devices} devices`);
  await seedDevices(path, devices);
  const gw = await startGatewayProcess({ label: 'inventory', dir, cpuProfileDir: ctx.profileDir ?? undefined });
  const agent = keepAliveAgent(1);
  try {
    return await explainFailure(gw, async () => {
      // Not `online`: with the embedded broker the gateway starts with every DJI device offline (see src/inventory/presence.ts).
      const filter = { model: '3-2-0', consistencyUpgradeNeeded: false, firmwareVersionNot: '10.02.0107' };
      let after: string | null = null;
      const page = async () => {
        const r = await graphql<{ devices: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
          agent, gw.port, DEVICES_PAGE_QUERY, { filter, after },
        );
        if (r.data.devices.edges.length === 0 && after === null) throw new Error('the filtered devices page is empty');
        after = r.data.devices.pageInfo.hasNextPage ? r.data.devices.pageInfo.endCursor : null;
        return r;
      };
      const versions = async () => {
        const r = await graphql<{ firmwareVersions: unknown[] }>(agent, gw.port, FIRMWARE_VERSIONS_QUERY, {});
        if (r.data.firmwareVersions.length === 0) throw new Error('firmwareVersions is empty');
        return r;
      };
      for (let i = 0; i < WARM_UP; i++) {
        await page();
        await versions();
      }
      const pageMs: number[] = [];
      const versionsMs: number[] = [];
      for (let i = 0; i < requests; i++) pageMs.push((await page()).ms);
      for (let i = 0; i < requests; i++) versionsMs.push((await versions()).ms);
      const result = { devices, requests, devicesPageMs: distribution(pageMs), firmwareVersionsMs: distribution(versionsMs) };
      ctx.log(`  devices page p99 ${result.devicesPageMs.p99.toFixed(1)} ms, firmwareVersions p99 ${result.firmwareVersionsMs.p99.toFixed(1)} ms`);
      return result;
    });
  } finally {
    agent.destroy();
    await gw.stop();
  }
}
